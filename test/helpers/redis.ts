// A real, private redis-server for a test (the embedded default's own launcher, in a temp dir).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLogger } from '../../lib/logger.js';
import { freePort } from '../../lib/net.js';
import { startEmbeddedRedis } from '../../wrangler-free-runtime/node/embedded-redis.js';
import { endsWithTestFile } from './children.js';
import { scratchDir } from './scratch.js';
import { waitFor } from './wait.js';

export type TestRedis = { url: string; client(): Redis; stop(): Promise<void> };

export async function startTestRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'webrecord-redis-'));
  const server = await startEmbeddedRedis(dir, createLogger('silent'));
  const clients: Redis[] = [];
  return {
    url: server.url,
    client() {
      const c = new Redis(server.url);
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A plain redis-server, not supervised (the embedded one comes back by itself): for tests where the
 * store must stay away. Its port and data outlive kill(); start() brings it back on them.
 */
export async function startPlainRedis(): Promise<{ url: string; start(): Promise<void>; kill(): Promise<void> }> {
  const port = await freePort();
  const dir = scratchDir('plain-redis');
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { stdio: 'ignore' });
    endsWithTestFile(child);
    await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', { timeoutMs: 10_000, what: 'redis-server' });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    kill: async () => {
      const c = child!;
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
  };
}
