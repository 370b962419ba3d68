// The region's newest actors, newest first, without a scan: each shard keeps its own listing (a sorted
// set by `at`, bounded, and a label per actor), written by the fenced write with the state. A read asks
// every shard for its newest (one script per shard, so on a Redis Cluster each runs where its slot
// is), merges them, and reads the states of the few it answers, one MGET per shard.
import { script } from '../lib/lua.js';
import type { RedisClient } from '../lib/redis-connect.js';
import { keys } from '../protocol/keys.js';
import { ALL_SHARDS, shardOf } from '../protocol/shard.js';
import type { ShardIndexes } from './shard-indexes.js';

const NEWEST = script(
  'wrListNewest',
  `-- KEYS: recent zset, recent labels hash. ARGV: limit, label ('' = any).
-- Returns {id, at, label, ...}, newest first. With a label, walks the listing newest first (bounded
-- by the fenced write) until limit of them carry it.
local limit = tonumber(ARGV[1])
local want = ARGV[2]
local out = {}
local found = 0
local from = 0
local page = want == '' and limit or 200
while found < limit do
  local batch = redis.call('ZREVRANGE', KEYS[1], from, from + page - 1, 'WITHSCORES')
  if #batch == 0 then break end
  for i = 1, #batch, 2 do
    local label = redis.call('HGET', KEYS[2], batch[i]) or ''
    if want == '' or label == want then
      out[#out + 1] = batch[i]; out[#out + 1] = batch[i + 1]; out[#out + 1] = label
      found = found + 1
      if found >= limit then break end
    end
  end
  from = from + page
end
return out`,
);

export type Listed = { id: string; at: number; label: string; state: unknown };

/** Tries when states turn out gone (expired since they were listed): each try forgets what it found gone. */
const ROUNDS = 3;

export class ActorListing {
  constructor(
    private readonly redis: RedisClient,
    private readonly indexes: ShardIndexes,
  ) {}

  /** The newest `limit` actors (with `label`, if given), newest first, each with its stored state. */
  async newest(limit: number, label?: string): Promise<Listed[]> {
    for (let round = 1; ; round++) {
      const candidates = await this.candidates(limit, label ?? '');
      const states = await this.states(candidates.map((c) => c.id));
      const gone = candidates.filter((c) => states.get(c.id) === null);
      // An actor whose state expired leaves every index of its shard, the listing included.
      await Promise.all(gone.map((c) => this.indexes.forget(c.id)));
      const found = candidates.filter((c) => states.get(c.id) !== null).map((c) => ({ ...c, state: JSON.parse(states.get(c.id)!) as unknown }));
      if (!gone.length || round === ROUNDS) return found;
    }
  }

  private async candidates(limit: number, label: string): Promise<Omit<Listed, 'state'>[]> {
    const perShard = await Promise.all(ALL_SHARDS.map((shard) => NEWEST(this.redis, [keys.recent(shard), keys.recentLabels(shard)], [limit, label]) as Promise<string[]>));
    const all: Omit<Listed, 'state'>[] = [];
    for (const flat of perShard) for (let i = 0; i + 2 < flat.length; i += 3) all.push({ id: flat[i]!, at: Number(flat[i + 1]), label: flat[i + 2]! });
    // Newest first; one moment's ties by id, so every host answers the same order.
    all.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return all.slice(0, limit);
  }

  /** The states of `ids` (null: gone), one MGET per shard: keys of one shard share a slot. */
  private async states(ids: string[]): Promise<Map<string, string | null>> {
    const byShard = new Map<number, string[]>();
    for (const id of ids) byShard.set(shardOf(id), [...(byShard.get(shardOf(id)) ?? []), id]);
    const out = new Map<string, string | null>();
    await Promise.all(
      [...byShard.values()].map(async (group) => {
        const values = await this.redis.mget(...group.map((id) => keys.task(id)));
        group.forEach((id, i) => out.set(id, values[i] ?? null));
      }),
    );
    return out;
  }
}
