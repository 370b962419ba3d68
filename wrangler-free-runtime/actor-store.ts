// Actor state in Redis: read by anyone, written only through one fenced script by the lease holder.
// The script writes the state *and* the indexes derived from it (the actor's next alarm, what it is
// watched by, its group, its place among the shard's newest) in one step: they share the shard's hash tag, so no crash leaves them apart, also on
// a Redis Cluster.
import { script } from '../lib/lua.js';
import type { RedisClient } from '../lib/redis-connect.js';
import { keys } from '../protocol/keys.js';
import { ALL_SHARDS, shardOf } from '../protocol/shard.js';
import type { ActorIndexes } from './actor-kind.js';

const FENCED_WRITE = script(
  'wrFencedWrite',
  `-- KEYS: state, lease, fence, alarms zset, watches hash, live set, groups hash, group counts hash,
-- recent zset, recent labels hash.
-- ARGV: token, json, ttlMs (0 = keep), mode ('create' | 'update'), id, alarmAt ('' = none), watch ('' = none), group ('' = none),
-- listedAt ('' = not listed), label, most listed.
-- Returns 1 written, 0 stale token, -1 create of an existing actor, -2 update of a missing one.
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[1] then return 0 end
local exists = redis.call('EXISTS', KEYS[1])
if ARGV[4] == 'create' and exists == 1 then return -1 end
if ARGV[4] == 'update' and exists == 0 then return -2 end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
  redis.call('PEXPIRE', KEYS[3], ttl)
  redis.call('SREM', KEYS[6], ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[6], ARGV[5])
end
if ARGV[6] == '' then redis.call('ZREM', KEYS[4], ARGV[5]) else redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5]) end
if ARGV[7] == '' then redis.call('HDEL', KEYS[5], ARGV[5]) else redis.call('HSET', KEYS[5], ARGV[5], ARGV[7]) end
local was = redis.call('HGET', KEYS[7], ARGV[5])
if was ~= ARGV[8] then
  if was then redis.call('HINCRBY', KEYS[8], was, -1) end
  if ARGV[8] == '' then redis.call('HDEL', KEYS[7], ARGV[5]) else
    redis.call('HSET', KEYS[7], ARGV[5], ARGV[8])
    redis.call('HINCRBY', KEYS[8], ARGV[8], 1)
  end
end
if ARGV[9] == '' then
  redis.call('ZREM', KEYS[9], ARGV[5])
  redis.call('HDEL', KEYS[10], ARGV[5])
else
  redis.call('ZADD', KEYS[9], ARGV[9], ARGV[5])
  redis.call('HSET', KEYS[10], ARGV[5], ARGV[10])
  -- Bounded: the oldest leave, their labels with them.
  local over = redis.call('ZCARD', KEYS[9]) - tonumber(ARGV[11])
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[9], 0, over - 1)) do redis.call('HDEL', KEYS[10], old) end
    redis.call('ZREMRANGEBYRANK', KEYS[9], 0, over - 1)
  end
end
return 1`,
);

/** Each shard lists its newest actors up to this many: 64 000 over the region, a few MB of Redis. */
export const LISTED_PER_SHARD = 1000;

export type WriteResult = 'written' | 'stale' | 'exists' | 'missing';

/** A connection reads can take (see `viewReads`). */
export type StateReads = { get(key: string): Promise<string | null> };

export class ActorStore {
  constructor(
    private readonly redis: RedisClient,
    /** How long a finished actor's state stays readable. */
    private readonly finishedTtlMs: number,
    /**
     * Reads for callers outside the actor (Describe) may take their own auto-pipelined connection:
     * under load every such read is one GET, and sending the GETs of one loop turn in one socket write
     * cuts what a call costs. The actors' reads and all writes stay on `redis`, unpipelined, so their
     * order with the scripts holds; a read sent after a write was answered sees it either way.
     */
    private readonly viewReads: StateReads = redis,
    /** How many of the newest actors each shard lists (the oldest leave the listing, not the store). */
    private readonly listedPerShard = LISTED_PER_SHARD,
  ) {}

  async get(id: string): Promise<unknown> {
    const raw = await this.redis.get(keys.task(id));
    return raw === null ? null : JSON.parse(raw);
  }

  async getView(id: string): Promise<unknown> {
    const raw = await this.viewReads.get(keys.task(id));
    return raw === null ? null : JSON.parse(raw);
  }

  /** Unfinished actors, all shards: kept beside each write, so counting reads 64 small sets, no scan. */
  async liveCount(): Promise<number> {
    const counts = await Promise.all(ALL_SHARDS.map((shard) => this.redis.scard(keys.live(shard))));
    return counts.reduce((a, b) => a + b, 0);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.redis.exists(keys.task(id))) === 1;
  }

  async write(id: string, state: unknown, o: { token: number; mode: 'create' | 'update'; finished: boolean; indexes: ActorIndexes }): Promise<WriteResult> {
    const shard = shardOf(id);
    const r = await FENCED_WRITE(
      this.redis,
      [
        keys.task(id),
        keys.lease(id),
        keys.fence(id),
        keys.alarms(shard),
        keys.watches(shard),
        keys.live(shard),
        keys.groups(shard),
        keys.groupCounts(shard),
        keys.recent(shard),
        keys.recentLabels(shard),
      ],
      [
        o.token,
        JSON.stringify(state),
        o.finished ? this.finishedTtlMs : 0,
        o.mode,
        id,
        o.indexes.alarmAt ?? '',
        o.indexes.watch ?? '',
        o.indexes.group ?? '',
        o.indexes.listed?.at ?? '',
        o.indexes.listed?.label ?? '',
        this.listedPerShard,
      ],
    );
    return r === 1 ? 'written' : r === 0 ? 'stale' : r === -1 ? 'exists' : 'missing';
  }
}
