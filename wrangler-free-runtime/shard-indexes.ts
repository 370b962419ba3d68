// The per-shard indexes the fenced write keeps: due alarms (a sorted set by due time) and watches
// (actor → what it depends on, e.g. a recorder). Read by the owner of the shard, never by a scan.
import { script } from '../lib/lua.js';
import type { RedisClient } from '../lib/redis-connect.js';
import { keys } from '../protocol/keys.js';
import { shardOf } from '../protocol/shard.js';

const CLAIM_DUE = script(
  'wrClaimDueAlarms',
  `-- KEYS: alarms zset. ARGV: now, limit, retryAfterMs. Claims due members by pushing them retryAfterMs
-- ahead (fired again then if whoever claimed them never rescheduled), and returns them.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[3]), id) end
return due`,
);

export class ShardIndexes {
  constructor(
    private readonly redis: RedisClient,
    /** A claimed alarm fires again after this long unless the actor rescheduled it. */
    private readonly retryAfterMs = 30_000,
  ) {}

  async claimDue(shard: number, now: number, limit = 100): Promise<string[]> {
    return (await CLAIM_DUE(this.redis, [keys.alarms(shard)], [now, limit, this.retryAfterMs])) as string[];
  }

  /** Every watch of the shard: actor id → what it depends on. One key, one slot. */
  async watches(shard: number): Promise<Map<string, string>> {
    const flat = await this.redis.hgetall(keys.watches(shard));
    return new Map(Object.entries(flat));
  }

  /** Drops both indexes of an actor whose state is gone (expired). */
  async forget(id: string): Promise<void> {
    const shard = shardOf(id);
    await Promise.all([this.redis.zrem(keys.alarms(shard), id), this.redis.hdel(keys.watches(shard), id)]);
  }
}
