// Per-actor leases with fencing tokens: one host at a time runs an actor. The lease is the safety
// net under placement: callers are routed to the owner and never wait on a lease, but if two hosts
// ever believe they own an actor (views of the live hosts differ for a moment), only the holder of
// the current token can write its state.
import { script } from '../lib/lua.js';
import type { RedisClient } from '../lib/redis-connect.js';
import { keys } from '../protocol/keys.js';
import { shardOf } from '../protocol/shard.js';

const ACQUIRE = script(
  'wrAcquireLease',
  `-- KEYS: lease, fence. ARGV: owner, ttlMs. Returns {1, token} or {0, owner, pttl}.
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return {0, owner, redis.call('PTTL', KEYS[1])} end
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('HGET', KEYS[1], 'token'))}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, token}`,
);

const RENEW = script(
  'wrRenewLeases',
  `-- KEYS: leases (one shard's). ARGV: owner, ttlMs, token per key. Returns 1/0 per key (still held).
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'owner') == ARGV[1] and redis.call('HGET', key, 'token') == ARGV[i + 2] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`,
);

const RELEASE = script(
  'wrReleaseLease',
  `-- KEYS: lease. ARGV: owner, token.
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'token') == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
);

export type Acquired = { ok: true; token: number } | { ok: false; holder: string; retryInMs: number };

export class Leases {
  constructor(
    private readonly redis: RedisClient,
    readonly owner: string,
    readonly ttlMs: number,
  ) {}

  async acquire(id: string): Promise<Acquired> {
    const [ok, a, b] = (await ACQUIRE(this.redis, [keys.lease(id), keys.fence(id)], [this.owner, this.ttlMs])) as [number, number | string, number?];
    if (ok === 1) return { ok: true, token: Number(a) };
    return { ok: false, holder: String(a), retryInMs: Math.max(50, Number(b ?? this.ttlMs)) };
  }

  /** Renews many leases, one script per shard (a script stays within one slot); returns the ids lost. */
  async renew(held: Map<string, number>): Promise<string[]> {
    const byShard = new Map<number, string[]>();
    for (const id of held.keys()) byShard.set(shardOf(id), [...(byShard.get(shardOf(id)) ?? []), id]);
    const lost: string[] = [];
    await Promise.all(
      [...byShard.values()].map(async (ids) => {
        const res = (await RENEW(this.redis, ids.map(keys.lease), [this.owner, this.ttlMs, ...ids.map((id) => held.get(id)!)])) as number[];
        ids.forEach((id, i) => res[i] !== 1 && lost.push(id));
      }),
    );
    return lost;
  }

  async release(id: string, token: number): Promise<void> {
    await RELEASE(this.redis, [keys.lease(id)], [this.owner, token]);
  }
}
