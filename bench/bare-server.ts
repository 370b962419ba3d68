// The yardstick for the API benchmark: a bare Hono + ioredis handler that reads the JSON body and does
// one Redis GET — what answering Describe costs at the least. Usage: bare-server.ts <port> <redis-url>.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';

const [port, redisUrl] = process.argv.slice(2);
const redis = new Redis(redisUrl!);
const app = new Hono();
app.post('/', async (c) => {
  const body = (await c.req.json()) as { Data?: { TaskID?: string } };
  const value = await redis.get(`bench:${body.Data?.TaskID ?? ''}`);
  return c.json({ RequestID: crypto.randomUUID(), Data: { value } });
});
serve({ fetch: app.fetch, port: Number(port), hostname: '127.0.0.1' }, () => console.log('ready'));
