// The runtime against each Redis it runs on: one private redis-server, and a Redis Cluster of three
// masters. The same suite runs on both: leases and fenced writes (a host that lost its lease can never
// overwrite the state of the host that holds it now), state and indexes written together, sleep and
// wake, the live registries, and the consumer-group rules of the recorder bus — nothing spans slots
// and nothing scans.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTask, type Effect } from '../../actors/task-actor.js';
import { RecorderBus } from '../../bus/recorder-bus.js';
import { LiveRegistry } from '../../lib/live-registry.js';
import { createLogger } from '../../lib/logger.js';
import type { RedisClient } from '../../lib/redis-connect.js';
import { normalizeStart, StoredRequest } from '../../protocol/api.js';
import { keys } from '../../protocol/keys.js';
import { RecorderHeartbeat, type StartJob } from '../../protocol/recorder.js';
import { shardOf } from '../../protocol/shard.js';
import { TaskRecord } from '../../protocol/task.js';
import { taskKind } from '../../tasks/task-kind.js';
import { ActorHost, LeaseHeld } from '../../wrangler-free-runtime/actor-host.js';
import { ActorStore } from '../../wrangler-free-runtime/actor-store.js';
import { Leases } from '../../wrangler-free-runtime/lease.js';
import { ShardIndexes } from '../../wrangler-free-runtime/shard-indexes.js';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

// As a task stores it (JSON: no undefined EncryptKey).
const request = StoredRequest.parse(JSON.parse(JSON.stringify(normalizeStart({ RecordURL: 'http://page.test/' }))));
const config = { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 }, queueTimeoutMs: 600_000 };
const log = createLogger('silent');

type Driver = { name: string; start(): Promise<{ client(): RedisClient; stop(): Promise<void> }> };
const drivers: Driver[] = [
  { name: 'one redis-server', start: async (): Promise<TestRedis> => startTestRedis() },
  { name: 'a Redis Cluster of 3 masters', start: async (): Promise<TestCluster> => startTestCluster(3) },
];

function taskHost(r: RedisClient, owner: string, o: { leaseMs?: number; sleepAfterMs?: number; effects?: Effect[] } = {}) {
  return new ActorHost({
    kind: taskKind(config, o.sleepAfterMs ?? 60_000),
    store: new ActorStore(r, 60_000),
    leases: new Leases(r, owner, o.leaseMs ?? 900),
    perform: async (_id, effects) => void o.effects?.push(...effects),
    log,
  });
}

const event = (id: string, seq: number, type: 'accepted' | 'recording', recorderId = 'rec-1') => ({ TaskID: id, attempt: 1, recorderId, seq, at: Date.now(), type, width: 1280, height: 720 }) as const;

for (const driver of drivers) {
  describe(`runtime on ${driver.name}`, () => {
    let redis: Awaited<ReturnType<Driver['start']>>;
    before(async () => {
      redis = await driver.start();
    });
    after(async () => {
      await redis?.stop();
    });

    it('a stale token is refused; the current holder writes; state and indexes are written together', async () => {
      const r = redis.client();
      const store = new ActorStore(r, 60_000);
      const a = new Leases(r, 'host-a', 1000);
      const b = new Leases(r, 'host-b', 1000);
      const id = `fence-${crypto.randomUUID()}`;
      const shard = shardOf(id);

      const ga = await a.acquire(id);
      assert.ok(ga.ok);
      const { record } = createTask(id, request, Date.now(), config);
      assert.equal(await store.write(id, record, { token: ga.token, mode: 'create', finished: false, indexes: { alarmAt: 1234, watch: null } }), 'written');
      assert.equal(Number(await r.zscore(keys.alarms(shard), id)), 1234, 'the alarm is indexed with the state');

      const busy = await b.acquire(id);
      assert.equal(busy.ok, false, 'B cannot take a lease A holds');
      assert.equal(!busy.ok && busy.holder, 'host-a');

      await sleep(1100); // A stalls past its lease
      const gb = await b.acquire(id);
      assert.ok(gb.ok);
      assert.ok(gb.token > ga.token, 'fencing tokens only grow');

      const stale = await store.write(id, { ...record, Status: 'recording' }, { token: ga.token, mode: 'update', finished: false, indexes: { alarmAt: 99, watch: 'rec-a' } });
      assert.equal(stale, 'stale', 'A is fenced off');
      assert.equal(Number(await r.zscore(keys.alarms(shard), id)), 1234, 'a fenced-off write leaves the indexes as they were');
      assert.equal(await r.hget(keys.watches(shard), id), null);
      assert.deepEqual(await a.renew(new Map([[id, ga.token]])), [id], 'A cannot renew a lease it lost');
      assert.equal(await store.write(id, { ...record, Status: 'paused' }, { token: gb.token, mode: 'update', finished: false, indexes: { alarmAt: null, watch: 'rec-b' } }), 'written');
      assert.equal(TaskRecord.parse(await store.get(id)).Status, 'paused', "B's state stands");
      assert.equal(await r.zscore(keys.alarms(shard), id), null, 'no alarm any more');
      assert.equal(await r.hget(keys.watches(shard), id), 'rec-b', 'the recorder it depends on');
      assert.equal((await new ShardIndexes(r).watches(shard)).get(id), 'rec-b', 'read back by the watch, one key');

      assert.equal(await store.write(id, record, { token: gb.token, mode: 'create', finished: false, indexes: { alarmAt: null, watch: null } }), 'exists', 'create never overwrites');
      await a.release(id, ga.token);
      assert.equal(await r.hget(keys.lease(id), 'owner'), 'host-b', "a stale release leaves B's lease alone");
    });

    it('groups are counted with each write, over every shard: a task moves between them, leaves at finished, and a fenced-off write moves nothing', async () => {
      const r = redis.client();
      const store = new ActorStore(r, 60_000);
      const indexes = new ShardIndexes(r);
      const leases = new Leases(r, 'host-g', 5000);
      const tag = crypto.randomUUID().slice(0, 8);
      const group = (g: string) => `${g}-${tag}`; // groups of this test only: the Redis is shared by the suite
      const ids = Array.from({ length: 12 }, (_, i) => `group-${tag}-${i}`);
      assert.ok(new Set(ids.map(shardOf)).size > 3, 'the tasks span shards');
      const tokens = new Map<string, number>();
      const { record } = createTask(ids[0]!, request, Date.now(), config);
      const write = (id: string, g: string | null, mode: 'create' | 'update' = 'update', token = tokens.get(id)!) =>
        store.write(id, { ...record, TaskID: id }, { token, mode, finished: g === null, indexes: { alarmAt: null, watch: null, group: g === null ? null : group(g) } });
      const counts = async () => {
        const all = await indexes.groupCounts();
        return Object.fromEntries(['normal', 'recording', 'paused'].map((g) => [g, all.get(group(g)) ?? 0]));
      };
      for (const id of ids) {
        const lease = await leases.acquire(id);
        assert.ok(lease.ok);
        tokens.set(id, lease.token);
        assert.equal(await write(id, 'normal', 'create'), 'written');
      }
      assert.deepEqual(await counts(), { normal: 12, recording: 0, paused: 0 });
      for (const id of ids.slice(0, 7)) await write(id, 'recording');
      await write(ids[0]!, 'paused');
      await write(ids[1]!, 'recording'); // the same group again counts once
      assert.deepEqual(await counts(), { normal: 5, recording: 6, paused: 1 });
      for (const id of ids.slice(0, 3)) await write(id, null); // finished: counted nowhere
      assert.deepEqual(await counts(), { normal: 5, recording: 4, paused: 0 });
      assert.equal(await write(ids[5]!, 'paused', 'update', tokens.get(ids[5]!)! - 1), 'stale');
      assert.deepEqual(await counts(), { normal: 5, recording: 4, paused: 0 }, 'a fenced-off write moves nothing');
      await indexes.forget(ids[8]!); // its state gone: it leaves its group too
      await indexes.forget(ids[8]!);
      assert.deepEqual(await counts(), { normal: 4, recording: 4, paused: 0 });
    });

    it('leases of actors in many shards renew in one script per shard; a lost one is named', async () => {
      const r = redis.client();
      const leases = new Leases(r, 'host-many', 2000);
      const held = new Map<string, number>();
      for (let i = 0; i < 200; i++) {
        const id = `many-${i}-${crypto.randomUUID()}`;
        const got = await leases.acquire(id);
        assert.ok(got.ok);
        held.set(id, got.token);
      }
      assert.ok(new Set([...held.keys()].map(shardOf)).size > 40, 'the ids spread over most shards');
      const one = [...held.keys()][17]!;
      await r.del(keys.lease(one));
      assert.deepEqual(await leases.renew(held), [one]);
      assert.ok((await r.pttl(keys.lease([...held.keys()][3]!))) > 1000, 'renewed');
    });

    it('a host that lost its lease finds out before deciding, and says who holds the task now', async () => {
      const effects: Effect[] = [];
      const hostA = taskHost(redis.client(), 'host-a', { leaseMs: 1000, effects }); // never renews: as if paused
      const hostB = taskHost(redis.client(), 'host-b', { leaseMs: 1000, effects });
      const id = `actor-${crypto.randomUUID()}`;
      await hostA.create(id, request);
      await hostA.send(id, { kind: 'event', event: event(id, 1, 'accepted') });
      await hostA.send(id, { kind: 'event', event: event(id, 2, 'recording') });
      await assert.rejects(hostB.send(id, { kind: 'command', command: 'Pause' }), (err: unknown) => err instanceof LeaseHeld && err.holder === 'host-a', 'B is told who holds it, at once');

      await sleep(1100);
      assert.deepEqual(await hostB.send(id, { kind: 'command', command: 'Pause' }), { ok: true });
      // A still believes the task is recording; its write is fenced off, and it hands the call on
      // (the router forwards it to B, which answers from the state it wrote).
      await assert.rejects(hostA.send(id, { kind: 'command', command: 'Pause' }), (err: unknown) => err instanceof LeaseHeld && err.holder === 'host-b');
      const reply = await hostB.send(id, { kind: 'command', command: 'Pause' });
      assert.equal(reply?.ok, false);
      assert.equal(!reply?.ok && reply?.code, 'InvalidState');
      assert.deepEqual(
        effects.filter((e) => e.type === 'commandRecorder').map((e) => e.type === 'commandRecorder' && e.command.type),
        ['pause'],
        'the recorder was told to pause once',
      );
      await hostA.stop();
      await hostB.stop();
    });

    it('a task waiting in the queue sleeps at once; one a recorder holds stays awake', async () => {
      const r = redis.client();
      const host = taskHost(r, 'host-queue');
      host.start();
      try {
        const queued = `queued-${crypto.randomUUID()}`;
        const taken = `taken-${crypto.randomUUID()}`;
        await host.create(queued, request);
        await host.create(taken, request);
        await host.send(taken, { kind: 'event', event: event(taken, 1, 'accepted') });
        assert.equal(host.activeCount, 2);
        await sleep(1000);
        assert.equal(await r.exists(keys.lease(queued)), 0, 'the queued task handed its lease back');
        assert.equal(await r.exists(keys.lease(taken)), 1, 'the task a recorder holds kept its lease');
        assert.equal(host.activeCount, 1);
        await host.send(queued, { kind: 'event', event: event(queued, 1, 'accepted', 'rec-2') });
        assert.equal(host.activeCount, 2);
        assert.equal(TaskRecord.parse(await new ActorStore(r, 60_000).get(queued)).recorderId, 'rec-2');
        assert.equal(await r.hget(keys.watches(shardOf(queued)), queued), 'rec-2', 'watched from the moment it is held');
        await sleep(1000);
        assert.equal(host.activeCount, 2, 'held by a recorder, it stays awake');
      } finally {
        await host.stop();
      }
    });

    it('an idle actor hands its lease back and wakes from the stored state on its next message', async () => {
      const r = redis.client();
      const host = taskHost(r, 'host-idle', { sleepAfterMs: 500 });
      host.start();
      try {
        const id = `idle-${crypto.randomUUID()}`;
        await host.create(id, request);
        await host.send(id, { kind: 'event', event: event(id, 1, 'accepted') });
        assert.equal(host.activeCount, 1);
        await sleep(1500);
        assert.equal(host.activeCount, 0, 'asleep after 500 ms without a message');
        assert.equal(await r.exists(keys.lease(id)), 0, 'its lease handed back, not left to expire');
        await host.send(id, { kind: 'event', event: event(id, 2, 'recording') });
        assert.equal(host.activeCount, 1, 'awake again');
        assert.equal(TaskRecord.parse(await new ActorStore(r, 60_000).get(id)).Status, 'recording');
        await sleep(1500);
        assert.equal(host.activeCount, 0);
        // Asleep, it still remembers which events it applied: a duplicate changes nothing.
        await host.send(id, { kind: 'event', event: event(id, 2, 'recording') });
        assert.deepEqual(await host.send(id, { kind: 'command', command: 'Pause' }), { ok: true });
        assert.equal(TaskRecord.parse(await new ActorStore(r, 60_000).get(id)).Status, 'paused');
      } finally {
        await host.stop();
      }
    });

    it('due alarms are claimed per shard, once', async () => {
      const r = redis.client();
      const indexes = new ShardIndexes(r, 30_000);
      const host = taskHost(r, 'host-alarm');
      const id = `alarm-${crypto.randomUUID()}`;
      await host.create(id, request);
      const due = Number(await r.zscore(keys.alarms(shardOf(id)), id));
      assert.ok(due > Date.now(), 'a queued task is woken at its queue timeout');
      assert.deepEqual(await indexes.claimDue(shardOf(id), due - 1), []);
      assert.ok((await indexes.claimDue(shardOf(id), due)).includes(id));
      assert.ok(!(await indexes.claimDue(shardOf(id), due)).includes(id), 'claimed once');
      await host.stop();
    });

    it('the live registry sees every member on every call, without scanning, by Redis time', async () => {
      const r = redis.client();
      const registry = new LiveRegistry(r, keys.recorders('reg-test'), keys.recorderBeats('reg-test'), RecorderHeartbeat);
      const beat = (id: string): RecorderHeartbeat => ({
        recorderId: id,
        version: 't',
        slots: 2,
        active: 0,
        accepting: true,
        recordingCores: 0.6,
        cores: 2,
        busyCores: 0,
        availableMemoryBytes: 1e9,
        at: Date.now(),
      });
      for (const id of ['r1', 'r2', 'r3']) await registry.beat(id, beat(id), 60_000);
      await registry.beat('short', beat('short'), 300);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) seen.push((await registry.live()).size);
      assert.deepEqual(seen, [4, 4, 4, 4, 4]);
      await sleep(400);
      assert.deepEqual([...(await registry.live()).keys()].sort(), ['r1', 'r2', 'r3'], 'an expired member is not alive');
      await registry.leave('r2');
      assert.deepEqual([...(await registry.live()).keys()].sort(), ['r1', 'r3']);
    });

    it('a Start job read by a recorder that died before taking it goes to another; a taken job is gone', async () => {
      const region = `bus-${crypto.randomUUID().slice(0, 8)}`;
      const r = redis.client();
      const bus = new RecorderBus(r, region);
      const dead = bus.jobReader('rec-dead', log);
      const alive = bus.jobReader('rec-alive', log);
      await dead.init();
      const job: StartJob = { TaskID: `job-${crypto.randomUUID()}`, attempt: 1, request, mode: 'record' };
      await bus.enqueueStart(job);
      const read = await dead.take(redis.client(), 100, () => true);
      assert.equal(read?.job.TaskID, job.TaskID, 'read, never acknowledged: the reader dies here');
      assert.equal(await alive.take(redis.client(), 100, (id) => id === 'rec-dead'), null, 'not taken from a reader that is alive');
      // (A reader looks for dead readers' jobs every couple of seconds; a fresh one looks at once.)
      const again = await bus.jobReader('rec-alive', log).take(redis.client(), 100, (id) => id === 'rec-alive');
      assert.equal(again?.job.TaskID, job.TaskID, 'taken over from the dead reader');
      await again!.ack();
      assert.equal(await r.xlen(keys.jobs(region)), 0, 'acknowledged and deleted');
      const groups = (await r.call('XINFO', 'CONSUMERS', keys.jobs(region), 'recorders')) as unknown[][];
      assert.deepEqual(
        groups.map((g) => g[1]),
        ['rec-alive'],
        'the dead reader is forgotten',
      );
      // An expired job is dropped unstarted.
      await bus.enqueueStart({ ...job, TaskID: `late-${crypto.randomUUID()}`, notAfter: Date.now() - 1 });
      assert.equal(await bus.jobReader('rec-alive', log).take(redis.client(), 100, () => true), null);
      assert.equal(await r.xlen(keys.jobs(region)), 0);
    });
  });
}
