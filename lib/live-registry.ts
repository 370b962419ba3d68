// Who is alive, without scanning keys: members (runtime hosts, recorders) beat into a sorted set
// scored by when their beat expires, beside a hash of what each said of itself. Both keys share one
// hash tag, so every call is one script on one slot. Expiry is judged by Redis' own clock (TIME), so
// hosts whose clocks differ agree on who is alive.
import type { z } from 'zod';
import { script } from './lua.js';
import type { RedisClient } from './redis-connect.js';

const NOW_MS = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const BEAT = script(
  'wrRegistryBeat',
  `-- KEYS: members zset, beats hash. ARGV: id, json, ttlMs. Also forgets up to 100 expired members.
${NOW_MS}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(gone) do redis.call('ZREM', KEYS[1], id); redis.call('HDEL', KEYS[2], id) end
return #gone`,
);

const LIVE = script(
  'wrRegistryLive',
  `-- KEYS: members zset, beats hash. Returns {id, json, id, json, ...} of the members alive now.
${NOW_MS}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], now + 1, '+inf')
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', KEYS[2], id)
  if v then out[#out + 1] = id; out[#out + 1] = v end
end
return out`,
);

const LEAVE = script(
  'wrRegistryLeave',
  `-- KEYS: members zset, beats hash. ARGV: id.
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('HDEL', KEYS[2], ARGV[1])`,
);

export class LiveRegistry<T> {
  constructor(
    private readonly redis: RedisClient,
    private readonly membersKey: string,
    private readonly beatsKey: string,
    private readonly schema: z.ZodType<T>,
  ) {}

  async beat(id: string, value: T, ttlMs: number): Promise<void> {
    await BEAT(this.redis, [this.membersKey, this.beatsKey], [id, JSON.stringify(value), ttlMs]);
  }

  /** The members alive now, with what they last said; a beat that no longer parses is skipped. */
  async live(): Promise<Map<string, T>> {
    const flat = (await LIVE(this.redis, [this.membersKey, this.beatsKey], [])) as string[];
    const out = new Map<string, T>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      try {
        const parsed = this.schema.safeParse(JSON.parse(flat[i + 1]!));
        if (parsed.success) out.set(flat[i]!, parsed.data);
      } catch {
        // not JSON: written by something else; skipped
      }
    }
    return out;
  }

  async leave(id: string): Promise<void> {
    await LEAVE(this.redis, [this.membersKey, this.beatsKey], [id]);
  }
}
