// Placement: which host runs a task. Rendezvous hashing over the live hosts, checked as properties
// over generated host sets (fast-check), and the shard function pinned (stored keys depend on it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ALL_SHARDS, SHARDS, shardOf } from '../../protocol/shard.js';
import { ownerOf, ranking, shardsOwnedBy } from '../../wrangler-free-runtime/placement/rendezvous.js';

const hostIds = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 12 });
const shard = fc.integer({ min: 0, max: SHARDS - 1 });

describe('shards', () => {
  it('a TaskID always falls in the same shard (stored keys are named by it: a change would orphan them)', () => {
    assert.equal(shardOf('d1806f20-25b8-4c30-8176-c0832b7d41a2'), 40);
    assert.equal(shardOf('a'), 44);
    assert.equal(shardOf(''), 5);
  });

  it('UUIDs spread evenly over the shards', () => {
    const counts = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < 64_000; i++) counts[shardOf(crypto.randomUUID())]!++;
    assert.ok(Math.min(...counts) > 800 && Math.max(...counts) < 1200, `per shard ${Math.min(...counts)}…${Math.max(...counts)} of 1000 expected`);
  });
});

describe('rendezvous hashing', () => {
  it('every host computes the same owner, whatever order it lists the hosts in', () => {
    fc.assert(
      fc.property(hostIds, shard, (ids, s) => {
        const owner = ownerOf(s, ids);
        assert.ok(owner !== null && ids.includes(owner));
        assert.equal(ownerOf(s, [...ids].reverse()), owner);
        assert.equal(ranking(s, ids)[0], owner);
      }),
    );
  });

  it('a host leaving moves only its own shards, each to its runner-up', () => {
    fc.assert(
      fc.property(
        hostIds.filter((ids) => ids.length > 1),
        fc.nat(),
        (ids, pickIndex) => {
          const gone = ids[pickIndex % ids.length]!;
          const rest = ids.filter((id) => id !== gone);
          for (const s of ALL_SHARDS) {
            const before = ranking(s, ids);
            const after = ownerOf(s, rest);
            assert.equal(after, before[0] === gone ? before[1] : before[0]);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('a host joining takes shards only for itself', () => {
    fc.assert(
      fc.property(hostIds, fc.string({ minLength: 1 }), (ids, joining) => {
        fc.pre(!ids.includes(joining));
        for (const s of ALL_SHARDS) {
          const after = ownerOf(s, [...ids, joining]);
          assert.ok(after === joining || after === ownerOf(s, ids));
        }
      }),
      { numRuns: 50 },
    );
  });

  it('the shards are shared: every shard has one owner, and hosts get about equal parts', () => {
    let smallestShare = 0;
    const sets = 300;
    for (let i = 0; i < sets; i++) {
      const ids = [`host-${crypto.randomUUID()}`, `host-${crypto.randomUUID()}`, `host-${crypto.randomUUID()}`];
      const parts = ids.map((id) => shardsOwnedBy(id, ids).length);
      assert.equal(
        parts.reduce((a, b) => a + b, 0),
        SHARDS,
      );
      smallestShare += parts[0]! / SHARDS;
    }
    const mean = smallestShare / sets;
    assert.ok(mean > 0.3 && mean < 0.37, `a host owns ${(mean * 100).toFixed(1)} % of the shards on average, of 3`);
  });
});
