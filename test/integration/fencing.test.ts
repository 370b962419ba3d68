// Leases and fenced writes against a real Redis: a host that lost its lease can never overwrite the
// state written by the host that holds it now.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTask } from '../../actors/task-actor.js';
import { createLogger } from '../../lib/logger.js';
import { normalizeStart } from '../../protocol/api.js';
import { keys } from '../../protocol/keys.js';
import { ActorHost, type EffectPorts } from '../../wrangler-free-runtime/actor-host.js';
import { Alarms } from '../../wrangler-free-runtime/alarms.js';
import { Assignments } from '../../wrangler-free-runtime/assignments.js';
import { Leases } from '../../wrangler-free-runtime/lease.js';
import { TaskStore } from '../../wrangler-free-runtime/task-store.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

const request = normalizeStart({ RecordURL: 'http://page.test/' });
let redis: TestRedis;

before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  await redis.stop();
});

/** A host whose effects go nowhere, with 900 ms leases (renewed every 300 ms) and the given idle time. */
function idleHost(r: ReturnType<TestRedis['client']>, owner: string, passivateAfterMs: number): ActorHost {
  return new ActorHost({
    store: new TaskStore(r, 60_000),
    leases: new Leases(r, owner, 900),
    alarms: new Alarms(r, 'test'),
    assignments: new Assignments(r, 'test'),
    ports: { enqueueStart: async () => undefined, commandRecorder: async () => undefined, deliverCallback: async () => ({ ok: true }) },
    config: { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 } },
    log: createLogger('silent'),
    passivateAfterMs,
  });
}

describe('leases and fenced writes (real Redis)', () => {
  it('a stale token is refused; the current holder writes', async () => {
    const r = redis.client();
    const store = new TaskStore(r, 60_000);
    const a = new Leases(r, 'host-a', 1000);
    const b = new Leases(r, 'host-b', 1000);
    const id = `fence-${crypto.randomUUID()}`;

    const ga = await a.acquire(id);
    assert.ok(ga.ok);
    const { record } = createTask(id, request, Date.now());
    assert.equal(await store.write(record, ga.token, 'create'), 'written');

    const busy = await b.acquire(id);
    assert.equal(busy.ok, false, 'B cannot take a lease A holds');
    assert.equal(!busy.ok && busy.holder, 'host-a');

    await sleep(1100); // A stalls past its lease
    const gb = await b.acquire(id);
    assert.ok(gb.ok);
    assert.ok(gb.token > ga.token, 'fencing tokens only grow');

    assert.equal(await store.write({ ...record, Status: 'recording' }, ga.token, 'update'), 'stale', 'A is fenced off');
    assert.deepEqual(await a.renew(new Map([[id, ga.token]])), [id], 'A cannot renew a lease it lost');
    assert.equal(await store.write({ ...record, Status: 'paused' }, gb.token, 'update'), 'written');
    assert.equal((await store.get(id))?.Status, 'paused', "B's state stands");

    assert.equal(await store.write(record, gb.token, 'create'), 'exists', 'create never overwrites');
    await a.release(id, ga.token);
    assert.equal(await r.hget(keys.lease(id), 'owner'), 'host-b', "a stale release leaves B's lease alone");
  });

  it('an actor host that lost its lease reloads the task before deciding', async () => {
    const log = createLogger('silent');
    const sent: string[] = [];
    const ports: EffectPorts = {
      enqueueStart: async () => undefined,
      commandRecorder: async (_id, c) => void sent.push(c.type),
      deliverCallback: async () => ({ ok: true }),
    };
    const make = (owner: string) => {
      const r = redis.client();
      return new ActorHost({
        passivateAfterMs: 60_000,
        store: new TaskStore(r, 60_000),
        leases: new Leases(r, owner, 1000),
        alarms: new Alarms(r, 'test'),
        assignments: new Assignments(r, 'test'),
        ports,
        config: { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 } },
        log,
      });
    };
    const hostA = make('host-a'); // never renews: as if paused
    const hostB = make('host-b');
    const id = `actor-${crypto.randomUUID()}`;
    await hostA.create(id, request);
    const recorderEvent = (seq: number, type: 'accepted' | 'recording') =>
      ({ TaskID: id, attempt: 1, recorderId: 'rec-1', seq, at: Date.now(), type, width: 1280, height: 720 }) as const;
    await hostA.send(id, { kind: 'event', event: recorderEvent(1, 'accepted') });
    await hostA.send(id, { kind: 'event', event: recorderEvent(2, 'recording') });

    await sleep(1100);
    assert.deepEqual(await hostB.send(id, { kind: 'command', command: 'Pause' }), { ok: true });
    // A still believes the task is recording; its write is fenced off, it reloads (paused) and answers from there.
    const reply = await hostA.send(id, { kind: 'command', command: 'Pause' });
    assert.equal(reply?.ok, false);
    assert.equal(!reply?.ok && reply?.code, 'InvalidState');
    assert.deepEqual(sent, ['pause'], 'the recorder was told to pause once');
    await hostA.stop();
    await hostB.stop();
  });

  it('a task waiting in the queue sleeps at once; one a recorder holds stays awake', async () => {
    const r = redis.client();
    const host = idleHost(r, 'host-queue', 60_000);
    host.start();
    try {
      const queued = `queued-${crypto.randomUUID()}`;
      const taken = `taken-${crypto.randomUUID()}`;
      await host.create(queued, request);
      await host.create(taken, request);
      await host.send(taken, { kind: 'event', event: { TaskID: taken, attempt: 1, recorderId: 'rec-1', seq: 1, at: Date.now(), type: 'accepted' } });
      assert.equal(host.activeCount, 2);
      await sleep(1000);
      assert.equal(await r.exists(keys.lease(queued)), 0, 'the queued task handed its lease back');
      assert.equal(await r.exists(keys.lease(taken)), 1, 'the task a recorder holds kept its lease');
      assert.equal(host.activeCount, 1);
      // Its job taken, the queued task wakes with its state.
      await host.send(queued, { kind: 'event', event: { TaskID: queued, attempt: 1, recorderId: 'rec-2', seq: 1, at: Date.now(), type: 'accepted' } });
      assert.equal(host.activeCount, 2);
      assert.equal((await new TaskStore(r, 60_000).get(queued))?.recorderId, 'rec-2');
      await sleep(1000);
      assert.equal(host.activeCount, 2, 'held by a recorder, it stays awake');
    } finally {
      await host.stop();
    }
  });

  it('an idle actor hands its lease back and wakes from the stored state on its next message', async () => {
    const r = redis.client();
    const host = idleHost(r, 'host-idle', 500);
    host.start();
    try {
      const id = `idle-${crypto.randomUUID()}`;
      await host.create(id, request);
      assert.equal(host.activeCount, 1);
      assert.equal(await r.exists(keys.lease(id)), 1);
      await sleep(1500);
      assert.equal(host.activeCount, 0, 'asleep after 500 ms without a message');
      assert.equal(await r.exists(keys.lease(id)), 0, 'its lease handed back, not left to expire');

      const event = (seq: number, type: 'accepted' | 'recording') =>
        ({ TaskID: id, attempt: 1, recorderId: 'rec-1', seq, at: Date.now(), type, width: 1280, height: 720 }) as const;
      await host.send(id, { kind: 'event', event: event(1, 'accepted') });
      await host.send(id, { kind: 'event', event: event(2, 'recording') });
      assert.equal(host.activeCount, 1, 'awake again');
      assert.equal((await new TaskStore(r, 60_000).get(id))?.Status, 'recording');
      await sleep(1500);
      assert.equal(host.activeCount, 0);
      // Asleep, it still remembers which events it applied: a duplicate changes nothing.
      await host.send(id, { kind: 'event', event: event(2, 'recording') });
      assert.deepEqual(await host.send(id, { kind: 'command', command: 'Pause' }), { ok: true });
      assert.equal((await new TaskStore(r, 60_000).get(id))?.Status, 'paused');
    } finally {
      await host.stop();
    }
  });
});
