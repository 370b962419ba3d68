// Rendezvous (highest random weight) hashing: every host scores every shard, the highest score owns
// it. Any host computes the same owner from the same list of live hosts, with no coordination; when a
// host leaves, only its own shards move (each to its runner-up), and when one joins it takes about
// 1/n of the shards from the others.
import { ALL_SHARDS } from '../../protocol/shard.js';

/** FNV-1a, then murmur3's finalizer for avalanche: ids that differ by one character score apart. */
function score(hostId: string, shard: number): number {
  const s = `${hostId}#${shard}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The hosts in the order they would own the shard: the owner first, then who takes over from it. */
export function ranking(shard: number, hostIds: Iterable<string>): string[] {
  return [...hostIds]
    .map((id) => ({ id, s: score(id, shard) }))
    .sort((a, b) => b.s - a.s || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((x) => x.id);
}

export function ownerOf(shard: number, hostIds: Iterable<string>): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const id of hostIds) {
    const s = score(id, shard);
    if (s > bestScore || (s === bestScore && best !== null && id < best)) {
      best = id;
      bestScore = s;
    }
  }
  return best;
}

/** The shards a host owns among the given hosts. */
export function shardsOwnedBy(hostId: string, hostIds: string[]): number[] {
  return ALL_SHARDS.filter((shard) => ownerOf(shard, hostIds) === hostId);
}
