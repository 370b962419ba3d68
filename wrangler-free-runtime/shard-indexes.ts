// The per-shard indexes the fenced write keeps: due alarms (a sorted set by due time), watches
// (actor → what it depends on, e.g. a recorder), groups (actor → group, with a count per group) and
// the listing of the newest (read by actor-listing.ts).
// Read by the owner of the shard, or summed over the shards; never by a scan.
import { script } from '../lib/lua.js';
import type { RedisClient } from '../lib/redis-connect.js';
import { keys } from '../protocol/keys.js';
import { ALL_SHARDS, shardOf } from '../protocol/shard.js';

const CLAIM_DUE = script(
  'wrClaimDueAlarms',
  `-- KEYS: alarms zset. ARGV: now, limit, retryAfterMs. Claims due members by pushing them retryAfterMs
-- ahead (fired again then if whoever claimed them never rescheduled), and returns them.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]) + tonumber(ARGV[3]), id) end
return due`,
);

const FORGET = script(
  'wrForgetIndexes',
  `-- KEYS: alarms zset, watches hash, groups hash, group counts hash, recent zset, recent labels hash. ARGV: id.
-- An actor whose state is gone leaves every index, its group's count and the listing included.
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
local was = redis.call('HGET', KEYS[3], ARGV[1])
if was then
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[4], was, -1)
end
return 1`,
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

  /** How many actors each group holds, all shards summed (64 small hashes). */
  async groupCounts(): Promise<Map<string, number>> {
    const perShard = await Promise.all(ALL_SHARDS.map((shard) => this.redis.hgetall(keys.groupCounts(shard))));
    const total = new Map<string, number>();
    for (const counts of perShard) for (const [group, n] of Object.entries(counts)) total.set(group, (total.get(group) ?? 0) + Number(n));
    return total;
  }

  /** Drops the indexes of an actor whose state is gone (expired). */
  async forget(id: string): Promise<void> {
    const shard = shardOf(id);
    await FORGET(this.redis, [keys.alarms(shard), keys.watches(shard), keys.groups(shard), keys.groupCounts(shard), keys.recent(shard), keys.recentLabels(shard)], [id]);
  }
}
