// RATE_LIMIT across every host: one generic cell rate (GCRA) per client in Redis, judged by Redis'
// own clock, so a client spreading its calls over many hosts meets the same limit.
import { script } from './lua.js';
import type { RedisClient } from './redis-connect.js';

const TAKE = script(
  'wrRateTake',
  `-- KEYS: the client's cell. ARGV: interval (µs between calls at the rate), burst (calls at once).
-- Returns 0 when the call may go, else how many µs until it would.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then return tat - now - tolerance end
local nextTat = tat + interval
redis.call('SET', KEYS[1], nextTat, 'PX', math.ceil((nextTat - now) / 1000) + 1000)
return 0`,
);

export function redisRateLimiter(redis: RedisClient, perSecond: number, burst: number) {
  const interval = Math.max(1, Math.round(1_000_000 / perSecond));
  return {
    async take(client: string): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
      const wait = Number(await TAKE(redis, [`wr:rl:{${client}}`], [interval, burst]));
      return wait === 0 ? { ok: true } : { ok: false, retryAfterMs: Math.ceil(wait / 1000) };
    },
  };
}
