// Routing between runtime hosts, in one process on loopback with a real Redis and real HTTP: a call
// reaching a host that does not run the task is forwarded, never made to wait on a lease a live host
// holds — also while the live hosts change and two hosts' views differ; a host that cannot be reached
// but still holds the lease (cut off, not dead) makes the task answer ServiceUnavailable, not hang.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { shardOf } from '../../protocol/shard.js';
import { RecorderBus } from '../../bus/recorder-bus.js';
import { ownerOf } from '../../wrangler-free-runtime/placement/rendezvous.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { type RuntimeHost, startRuntimeHost } from '../helpers/runtime-host.js';
import { waitFor } from '../helpers/wait.js';

const REGION = 'routing-test';
const kek = randomBytes(32);
let redis: TestRedis;

type Host = RuntimeHost;

/** A runtime host with its HTTP server; `leaseTtlMs` also sets how often it looks at the live hosts. */
function startHost(name: string, leaseTtlMs: number): Promise<Host> {
  return startRuntimeHost({ redisUrl: redis.url, name, region: REGION, leaseTtlMs, kek });
}

async function call(host: Host, action: string, data: unknown): Promise<{ ms: number; status: number; json: Record<string, unknown> }> {
  const t0 = performance.now();
  const res = await fetch(host.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Action: action, Data: data }) });
  return { ms: performance.now() - t0, status: res.status, json: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis?.stop();
});

describe('routing between runtime hosts (real Redis, real HTTP, one process)', () => {
  it('a call to a host that does not run the task is forwarded to the one that does', async () => {
    // Long leases: a queued task sleeps at its host's next lease round, a third of the lease away.
    const a = await startHost('a', 30_000);
    const b = await startHost('b', 30_000);
    try {
      await waitFor(() => a.runtime.view.liveHosts().length === 2 && b.runtime.view.liveHosts().length === 2, { timeoutMs: 15_000, what: 'both hosts to see each other' });
      // A task of each owner, each created through the other host.
      const ids = [a, b].map(() => '');
      for (const [i, owner] of [a, b].entries()) {
        for (;;) {
          const other = owner === a ? b : a;
          const { json } = await call(other, 'Start', { RecordURL: 'http://page.test/' });
          const id = json.TaskID as string;
          if (ownerOf(shardOf(id), [a.id, b.id]) === owner.id) {
            ids[i] = id;
            break;
          }
        }
      }
      const [ofA, ofB] = ids as [string, string];
      // Woken by a command through the other host: it runs on its owner only.
      await call(b, 'Refresh', { TaskID: ofA });
      await call(a, 'Refresh', { TaskID: ofB });
      assert.ok(a.runtime.host.holds(ofA) && !b.runtime.host.holds(ofA), 'the task of A runs on A');
      assert.ok(b.runtime.host.holds(ofB) && !a.runtime.host.holds(ofB), 'the task of B runs on B');
      const pause = await call(b, 'Pause', { TaskID: ofA });
      assert.equal(pause.json.ErrorCode, 'InvalidState', 'answered by the task itself (it waits in the queue)');
      assert.match(String(pause.json.ErrorMessage), /this task is normal$/);
    } finally {
      for (const h of [a, b]) await h.stop();
    }
  });

  it('while a host still holds a task whose shard moved to a newcomer, calls to the newcomer are forwarded to it, at once', async () => {
    // A looks at the live hosts every 10 s (a third of its lease): it does not know of B yet.
    const a = await startHost('slow', 30_000);
    const started: string[] = [];
    for (let i = 0; i < 40; i++) started.push((await call(a, 'Start', { RecordURL: 'http://page.test/' })).json.TaskID as string);
    for (const id of started) await call(a, 'Refresh', { TaskID: id });
    const b = await startHost('new', 30_000);
    try {
      const moved = started.filter((id) => ownerOf(shardOf(id), [a.id, b.id]) === b.id);
      assert.ok(moved.length > 5, `${moved.length} tasks moved to the newcomer`);
      for (const id of moved) {
        const r = await call(b, 'Refresh', { TaskID: id });
        assert.equal(r.json.ErrorCode, undefined, JSON.stringify(r.json));
        assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms (A holds the lease for another 30 s)`);
      }
      // Once A sees B, it lets the moved tasks go; B takes them on their next call.
      await waitFor(() => a.runtime.view.liveHosts().length === 2, { timeoutMs: 15_000, what: 'A to see B' });
      await waitFor(() => moved.every((id) => !a.runtime.host.holds(id)), { timeoutMs: 5000, what: 'A to let the moved tasks go' });
      for (const id of moved.slice(0, 5)) {
        assert.equal((await call(a, 'Refresh', { TaskID: id })).json.ErrorCode, undefined);
        assert.ok(b.runtime.host.holds(id), 'now run by their owner');
      }
    } finally {
      for (const h of [a, b]) await h.stop();
    }
  });

  it('a host cut off while holding a task: its calls answer ServiceUnavailable (503) within the lease TTL, never hang', async () => {
    const a = await startHost('cut', 2000);
    const b = await startHost('ok', 2000);
    try {
      await waitFor(() => b.runtime.view.liveHosts().length === 2, { timeoutMs: 5000, what: 'B to see A' });
      let id = '';
      do id = (await call(a, 'Start', { RecordURL: 'http://page.test/' })).json.TaskID as string;
      while (ownerOf(shardOf(id), [a.id, b.id]) !== a.id);
      // Taken by a (pretend) recorder that keeps beating: the task stays awake on A, holding its lease.
      const bus = new RecorderBus(redis.client(), REGION);
      await bus.recorders.beat(
        'rec-pretend',
        { recorderId: 'rec-pretend', version: 't', slots: 1, active: 1, accepting: false, recordingCores: 0.5, cores: 2, busyCores: 0, availableMemoryBytes: 1e9, at: Date.now() },
        60_000,
      );
      await bus.emit({ TaskID: id, attempt: 1, recorderId: 'rec-pretend', seq: 1, at: Date.now(), type: 'accepted' });
      await waitFor(async () => a.runtime.host.holds(id) && (await call(b, 'Refresh', { TaskID: id })).json.ErrorCode === undefined, { timeoutMs: 5000, what: 'the task to be held on A' });
      await a.http.close(); // A goes on renewing its leases, but nobody can reach it
      const r = await call(b, 'Refresh', { TaskID: id });
      assert.equal(r.status, 503);
      assert.equal(r.json.ErrorCode, 'ServiceUnavailable');
      assert.ok(r.ms < 2000 + 2500, `answered in ${r.ms.toFixed(0)} ms`);
      // A stops (and hands its leases back): B takes the task.
      await a.runtime.stop();
      assert.equal((await call(b, 'Refresh', { TaskID: id })).json.ErrorCode, undefined);
      assert.ok(b.runtime.host.holds(id));
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
