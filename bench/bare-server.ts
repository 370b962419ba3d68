// The yardstick for the API benchmark: a bare Hono + ioredis handler that reads the JSON body and does
// one Redis GET of the same task record Describe reads — what answering Describe costs at the least.
// Usage: bare-server.ts <port> <redis-url> [pipelined] — "pipelined" turns on ioredis auto-pipelining,
// as the service's Describe reads have it, to show what the service's own code costs at equal settings.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';
import { keys } from '../protocol/keys.js';

const [port, redisUrl, mode] = process.argv.slice(2);
const redis = new Redis(redisUrl!, { enableAutoPipelining: mode === 'pipelined' });
const app = new Hono();
app.post('/', async (c) => {
  const body = (await c.req.json()) as { Data?: { TaskID?: string } };
  const value = await redis.get(keys.task(body.Data?.TaskID ?? ''));
  return c.json({ RequestID: crypto.randomUUID(), Data: { value } });
});
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => console.log('ready'));
