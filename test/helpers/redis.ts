// A real, private redis-server for a test (the embedded default's own launcher, in a temp dir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createLogger } from '../../lib/logger.js';
import { startEmbeddedRedis } from '../../wrangler-free-runtime/node/embedded-redis.js';

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
