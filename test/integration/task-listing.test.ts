// ListTasks and DescribeRecorders through the runtime's own gateway, on one redis-server and on a
// Redis Cluster of three masters: tasks are listed by the fenced write of each shard, read back newest
// first from every shard and merged, filtered by status, bounded per shard, and gone once forgotten or
// expired; recorders come from their registry. Each Redis is this file's own, so "the newest" are ours.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/logger.js';
import type { RedisClient } from '../../lib/redis-connect.js';
import { normalizeStart, StoredRequest } from '../../protocol/api.js';
import { keys } from '../../protocol/keys.js';
import type { RecorderHeartbeat } from '../../protocol/recorder.js';
import { shardOf } from '../../protocol/shard.js';
import { createTask } from '../../actors/task-actor.js';
import { RecorderBus } from '../../bus/recorder-bus.js';
import { TaskRuntime } from '../../tasks/task-runtime.js';
import { ActorStore } from '../../wrangler-free-runtime/actor-store.js';
import { Leases } from '../../wrangler-free-runtime/lease.js';
import { startTestCluster } from '../helpers/redis-cluster.js';
import { startTestRedis } from '../helpers/redis.js';
import { sleep } from '../helpers/wait.js';

const request = StoredRequest.parse(JSON.parse(JSON.stringify(normalizeStart({ RecordURL: 'http://page.test/' }))));
const log = createLogger('silent');
const REGION = 'listing';
/** A finished task's state lasts this long here, so a test can see one expire. */
const FINISHED_TTL_MS = 1500;

type Driver = { name: string; start(): Promise<{ client(): RedisClient; stop(): Promise<void> }> };
const drivers: Driver[] = [
  { name: 'one redis-server', start: () => startTestRedis() },
  { name: 'a Redis Cluster of 3 masters', start: () => startTestCluster(3) },
];

function runtimeOn(r: RedisClient): TaskRuntime {
  return new TaskRuntime(
    {
      redis: { main: r, blocking: r, reads: r },
      hostId: `host-${crypto.randomUUID().slice(0, 8)}`,
      region: REGION,
      internalUrl: 'http://127.0.0.1:1',
      version: 'test',
      clusterSecret: null,
      leaseTtlMs: 5000,
      finishedTtlMs: FINISHED_TTL_MS,
      actor: { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 }, queueTimeoutMs: 600_000 },
      callbackTimeoutMs: 100,
      capabilities: { cos: false, vod: false },
      recordIdTtlMs: 60_000,
      kek: Buffer.alloc(32, 7),
      log,
    },
    null,
  );
}

const event = (id: string, seq: number, type: 'accepted' | 'recording') => ({ TaskID: id, attempt: 1, recorderId: 'rec-1', seq, at: Date.now(), type, width: 1280, height: 720 }) as const;

for (const driver of drivers) {
  describe(`ListTasks and DescribeRecorders on ${driver.name}`, () => {
    let redis: Awaited<ReturnType<Driver['start']>>;
    let runtime: TaskRuntime;
    /** Oldest first, as created. */
    const ids: string[] = [];
    before(async () => {
      redis = await driver.start();
      runtime = runtimeOn(redis.client());
      for (let i = 0; i < 30; i++) {
        const id = crypto.randomUUID();
        await runtime.host.create(id, request);
        ids.push(id);
        await sleep(2); // one creation time each, so "newest first" has one answer
      }
      for (const i of [3, 7, 12]) {
        await runtime.host.send(ids[i]!, { kind: 'event', event: event(ids[i]!, 1, 'accepted') });
        await runtime.host.send(ids[i]!, { kind: 'event', event: event(ids[i]!, 2, 'recording') });
      }
    });
    after(async () => {
      await runtime?.host.stop();
      await redis?.stop();
    });

    it('answers the newest first, merged over the shards, as Describe views, up to Limit (20 by default)', async () => {
      assert.ok(new Set(ids.map(shardOf)).size >= 10, 'the tasks span many shards');
      const newest = await runtime.gateway.listTasks({ limit: 20 });
      assert.deepEqual(
        newest.map((t) => t.TaskID),
        ids.slice(-20).reverse(),
      );
      for (const t of newest) assert.deepEqual(t, await runtime.gateway.describe(t.TaskID), 'each as Describe answers it');
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 5 })).map((t) => t.TaskID),
        ids.slice(-5).reverse(),
      );
      assert.equal((await runtime.gateway.listTasks({ limit: 100 })).length, 30);
    });

    it('filters by status, newest first, following each task as it moves', async () => {
      const recording = await runtime.gateway.listTasks({ limit: 20, status: 'recording' });
      assert.deepEqual(
        recording.map((t) => t.TaskID),
        [ids[12], ids[7], ids[3]],
      );
      assert.ok(recording.every((t) => t.Status === 'recording'));
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 2, status: 'recording' })).map((t) => t.TaskID),
        [ids[12], ids[7]],
      );
      assert.equal((await runtime.gateway.listTasks({ limit: 100, status: 'normal' })).length, 27);
      await runtime.host.send(ids[7]!, { kind: 'command', command: 'Pause' });
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 20, status: 'paused' })).map((t) => t.TaskID),
        [ids[7]],
      );
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 20, status: 'recording' })).map((t) => t.TaskID),
        [ids[12], ids[3]],
      );
      assert.deepEqual(await runtime.gateway.listTasks({ limit: 20, status: 'upload' }), []);
    });

    it('a forgotten task leaves the listing; a finished one is listed as finished until its state expires, then is gone from the index too', async () => {
      const r = redis.client();
      const forgotten = ids[29]!;
      await runtime.host.stop(); // hands the leases back; the state stays
      await r.del(keys.task(forgotten)); // its state gone (as when it expired) ...
      const seen = await runtime.gateway.listTasks({ limit: 3 });
      assert.deepEqual(
        seen.map((t) => t.TaskID),
        [ids[28], ids[27], ids[26]],
        '... it is not answered, and the answer still holds Limit tasks',
      );
      assert.equal(await r.zscore(keys.recent(shardOf(forgotten)), forgotten), null, 'and it left the index of its shard');
      assert.equal(await r.hget(keys.recentLabels(shardOf(forgotten)), forgotten), null);

      const done = ids[28]!;
      runtime = runtimeOn(redis.client());
      assert.deepEqual(await runtime.host.send(done, { kind: 'command', command: 'Stop' }), { ok: true });
      const finished = await runtime.gateway.listTasks({ limit: 20, status: 'finished' });
      assert.deepEqual(
        finished.map((t) => [t.TaskID, t.Result.ErrorCode]),
        [[done, 'NothingRecorded']],
      );
      await sleep(FINISHED_TTL_MS + 300);
      assert.deepEqual(await runtime.gateway.listTasks({ limit: 20, status: 'finished' }), [], 'expired: no longer answered');
      assert.equal(await r.zscore(keys.recent(shardOf(done)), done), null, 'and no longer indexed');
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 1 })).map((t) => t.TaskID),
        [ids[27]],
      );
    });

    it('each shard lists its newest up to its bound: the oldest leave the listing, labels and all', async () => {
      const r = redis.client();
      const store = new ActorStore(r, 60_000, r, 3);
      const leases = new Leases(r, 'host-bound', 5000);
      const shard = 17;
      const sameShard: string[] = [];
      while (sameShard.length < 5) {
        const id = `bound-${crypto.randomUUID()}`;
        if (shardOf(id) === shard) sameShard.push(id);
      }
      const at = Date.now() + 86_400_000; // newer than every other task here
      for (const [i, id] of sameShard.entries()) {
        const lease = await leases.acquire(id);
        assert.ok(lease.ok);
        const { record } = createTask(id, request, at + i, { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 }, queueTimeoutMs: 600_000 });
        const written = await store.write(id, record, { token: lease.token, mode: 'create', finished: false, indexes: { alarmAt: null, watch: null, listed: { at: at + i, label: 'normal' } } });
        assert.equal(written, 'written');
      }
      assert.deepEqual(await r.zrange(keys.recent(shard), '0', '-1'), sameShard.slice(-3), 'the three newest of the shard');
      assert.deepEqual(Object.keys(await r.hgetall(keys.recentLabels(shard))).sort(), sameShard.slice(-3).sort(), 'labels only for those listed');
      // The tasks of that shard made before left its listing; those of other shards are untouched.
      const newestElsewhere = ids
        .slice(0, 28)
        .reverse()
        .find((id) => shardOf(id) !== shard);
      assert.deepEqual(
        (await runtime.gateway.listTasks({ limit: 4 })).map((t) => t.TaskID),
        [...sameShard.slice(-3).reverse(), newestElsewhere],
      );
    });

    it('DescribeRecorders answers the live recorders from their registry, with slots and measured load', async () => {
      const bus = new RecorderBus(redis.client(), REGION);
      const beat = (id: string, active: number): RecorderHeartbeat => ({
        recorderId: id,
        version: '0.1.0',
        slots: 2,
        active,
        accepting: active < 2,
        recordingCores: 0.62,
        cores: 2,
        busyCores: 0.8,
        availableMemoryBytes: 3e9,
        at: Date.now(),
      });
      await bus.recorders.beat('rec-b', beat('rec-b', 2), 60_000);
      await bus.recorders.beat('rec-a', beat('rec-a', 1), 60_000);
      await bus.recorders.beat('rec-gone', beat('rec-gone', 0), 200);
      await sleep(300);
      const recorders = await runtime.gateway.describeRecorders();
      assert.deepEqual(
        recorders.map((r) => [r.RecorderId, r.Slots, r.Running, r.SlotsFree, r.Accepting]),
        [
          ['rec-a', 2, 1, 1, true],
          ['rec-b', 2, 2, 0, false],
        ],
      );
      assert.deepEqual(recorders[0]!.Load, { Cores: 2, BusyCores: 0.8, RecordingCores: 0.62, AvailableMemoryBytes: 3e9 }, 'the load it measured');
      assert.equal(recorders[0]!.Version, '0.1.0');
      assert.ok(Math.abs(recorders[0]!.LastSeen - Date.now() / 1000) < 5);
    });
  });
}
