// The edge worker in a real edge runtime: workerd (Cloudflare's open-source runtime, the isolate
// model of EdgeOne functions), from npm, serving the bundle `npm run build:edge` makes, as a
// service-worker script with text bindings, on loopback. Its outbound network is loopback only.
import { spawn } from 'node:child_process';
import { copyFileSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../lib/net.js';
import { buildEdge } from '../../scripts/build-edge.js';
import { endsWithTestFile } from './children.js';
import { scratchDir } from './scratch.js';
import { waitFor } from './wait.js';

const WORKERD = new URL('../../node_modules/.bin/workerd', import.meta.url).pathname;

export type EdgeWorker = { url: string; logFile: string; stop(): Promise<void> };

/** A capnp text literal of `s` (JSON's escapes are capnp's for these). */
const literal = (s: string) => JSON.stringify(s);

export async function startEdgeWorker(bindings: Record<string, string>): Promise<EdgeWorker> {
  const { path: bundle } = await buildEdge();
  const dir = scratchDir('workerd');
  const port = await freePort();
  const config = join(dir, 'edge.capnp');
  // An embed is read relative to the config.
  copyFileSync(bundle, join(dir, 'edge-worker.js'));
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    # What the worker may connect to: loopback, nothing else.
    (name = "internet", network = (allow = ["local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "edge") ],
);
const edge :Workerd.Worker = (
  serviceWorkerScript = embed "edge-worker.js",
  compatibilityDate = "2025-01-01",
  bindings = [
${Object.entries(bindings)
  .map(([name, value]) => `    (name = ${literal(name)}, text = ${literal(value)}),`)
  .join('\n')}
  ],
);
`,
  );
  const logFile = join(dir, 'workerd.log');
  const out = openSync(logFile, 'a');
  const child = spawn(WORKERD, ['serve', config, '--verbose'], { stdio: ['ignore', out, out] });
  endsWithTestFile(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`workerd exited at start: ${readFileSync(logFile, 'utf8').slice(0, 2000)}`);
      try {
        await fetch(`${url}/openapi.json`);
        return true;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000, what: 'workerd to listen' },
  );
  return {
    url,
    logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
