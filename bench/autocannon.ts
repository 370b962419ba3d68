// Load from autocannon in a second process, over loopback: one JSON body POSTed for a while.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const AUTOCANNON = new URL('../node_modules/.bin/autocannon', import.meta.url).pathname;
const SIGNED = new URL('./signed-load.ts', import.meta.url).pathname;

export type Load = { rps: number; p50: number; p99: number; errors: number; non2xx: number };

/** POSTs `body` for `seconds`; with `sign`, each request is signed anew with that key pair (bench/signed-load.ts). */
export async function load(url: string, body: unknown, connections: number, seconds: number, sign?: { key: string; secret: string }): Promise<Load> {
  const [cmd, args] = sign
    ? [process.execPath, ['--import', 'tsx', SIGNED, url, JSON.stringify(body), String(connections), String(seconds), sign.key, sign.secret]]
    : [AUTOCANNON, ['-j', '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(body), url]];
  const { stdout } = await promisify(execFile)(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}
