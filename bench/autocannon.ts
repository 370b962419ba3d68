// Load from autocannon in a second process, over loopback: one JSON body POSTed for a while.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const AUTOCANNON = new URL('../node_modules/.bin/autocannon', import.meta.url).pathname;

export type Load = { rps: number; p50: number; p99: number; errors: number; non2xx: number };

export async function load(url: string, body: unknown, connections: number, seconds: number): Promise<Load> {
  const { stdout } = await promisify(execFile)(
    AUTOCANNON,
    ['-j', '-c', String(connections), '-d', String(seconds), '-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(body), url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}
