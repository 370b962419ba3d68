// Tasks are spread over a fixed number of shards. A shard is the unit of placement (its owner among
// the live hosts runs its tasks) and of co-location in Redis: a task's state, lease and fence and its
// shard's alarm and recorder indexes share one hash tag, so one Lua script writes them together, also
// on a Redis Cluster (a script may only touch keys of one slot).
export const SHARDS = 64;

/** FNV-1a (32 bit) of the TaskID, modulo SHARDS: stable across hosts, versions and runtimes. */
export function shardOf(taskId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    h ^= taskId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % SHARDS;
}

export const ALL_SHARDS: readonly number[] = Array.from({ length: SHARDS }, (_, i) => i);
