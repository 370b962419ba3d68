// The task store going away under a recording: the embedded default's redis-server is SIGKILLed
// mid-recording; it is started again on the same data within 2 s, the API answers 503
// ServiceUnavailable meanwhile (never a hang, never InternalError), and the recording goes on. The
// same with a plain Redis away for 10 s, and with the Redis Cluster master of the task's shard killed
// (its replica takes over).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { findMarked } from '../../lib/child-process.js';
import { download } from '../helpers/download.js';
import { analyse } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startPlainRedis } from '../helpers/redis.js';
import { startTestCluster } from '../helpers/redis-cluster.js';
import { keys } from '../../protocol/keys.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;

before(async () => {
  pages = await startPageServer();
  svc = await startService({ RECORDER_SLOTS: '1' });
});
after(async () => {
  await svc?.stop();
  await pages?.close();
});

/** Stops the task; it must finish without error, its video holding all it recorded (less a second). */
async function stopAndCheck(on: RunningService, taskId: string, recordingAt: number) {
  const stopAt = Date.now();
  await on.client.stop(taskId);
  const task = await on.client.waitFor(taskId, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
  assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
  const file = join(on.dataDir, `${taskId}.mp4`);
  await download(task.Result.Videos[0]!.FileURL, file);
  const a = analyse(file);
  const recorded = (stopAt - recordingAt) / 1000;
  assert.ok(a.info.duration >= recorded - 1, `the video holds ${a.info.duration} s of the ${recorded.toFixed(1)} s recorded`);
  return a;
}

describe('the embedded Redis killed during a recording', () => {
  it('is back within 2 s on the same data; Describe answers ServiceUnavailable or the task, each within 1 s; the recording finishes whole', async () => {
    const { TaskID } = await svc.client.start({ RecordURL: pages.url('counter.html') });
    await svc.client.waitFor(TaskID, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
    const recordingAt = Date.now();
    await sleep(3000);

    const redisOf = () => findMarked({ WEBRECORD_REDIS_DIR: join(svc.dataDir, 'redis') });
    const [first] = redisOf();
    assert.ok(first, 'the embedded redis-server is running');
    process.kill(first, 'SIGKILL');
    const killedAt = Date.now();

    // Answers while it is away and after: each within a second, JSON, the task or ServiceUnavailable.
    const seen: string[] = [];
    let backAt = 0;
    while (Date.now() - killedAt < 4000) {
      const t0 = Date.now();
      const { status, answer } = await svc.client.call('Describe', { TaskID });
      const ms = Date.now() - t0;
      assert.ok(ms < 1000, `Describe answered in ${ms} ms`);
      assert.match(String(answer.RequestID), /^[0-9a-f]{32}$/);
      if (status === 503) assert.equal(answer.ErrorCode, 'ServiceUnavailable', JSON.stringify(answer));
      else {
        assert.equal(status, 200);
        assert.equal(answer.ErrorCode, undefined, JSON.stringify(answer));
        assert.equal(answer.TaskID, TaskID, 'the task is still there (same data)');
        backAt ||= Date.now();
      }
      seen.push(status === 503 ? 'unavailable' : String(answer.Status));
      await sleep(50);
    }
    console.log(`answers after the kill: ${seen.join(' ')}`);
    const [second] = redisOf();
    assert.ok(second && second !== first, 'a new redis-server runs');
    assert.ok(backAt > 0 && backAt - killedAt < 2000, `answering again ${backAt - killedAt} ms after the kill (${seen.join(' ')})`);

    await sleep(2000);
    const a = await stopAndCheck(svc, TaskID, recordingAt);
    assert.ok(a.distinctPerSecond >= 25, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  });

  it('REDIS_URL away for 10 s: API calls answer ServiceUnavailable within 1 s, the recording goes on and finishes whole, no recorder is declared lost', async () => {
    const redis = await startPlainRedis();
    const other = await startService({ REDIS_URL: redis.url, RECORDER_SLOTS: '1' });
    try {
      const { TaskID } = await other.client.start({ RecordURL: pages.url('counter.html') });
      await other.client.waitFor(TaskID, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
      const recordingAt = Date.now();
      await sleep(2000);
      await redis.kill();
      const killedAt = Date.now();
      let unavailable = 0;
      while (Date.now() - killedAt < 10_000) {
        const t0 = Date.now();
        const [describe, pause] = await Promise.all([other.client.call('Describe', { TaskID }), other.client.call('Pause', { TaskID })]);
        for (const r of [describe, pause]) {
          assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
          assert.equal(r.status, 503, JSON.stringify(r.answer));
          assert.equal(r.answer.ErrorCode, 'ServiceUnavailable');
          assert.match(String(r.answer.RequestID), /^[0-9a-f]{32}$/);
        }
        unavailable++;
        await sleep(500);
      }
      assert.ok(unavailable >= 5, `${unavailable} rounds answered while away`);
      await redis.start();
      await waitFor(async () => (await other.client.call('Describe', { TaskID })).status === 200, { timeoutMs: 5000, what: 'answers again' });
      assert.equal((await other.client.describe(TaskID)).Status, 'recording', 'still recording (no Pause got through, no recorder lost)');
      await sleep(8000); // past a heartbeat's life after the return: the recorder must not be judged lost
      const a = await stopAndCheck(other, TaskID, recordingAt);
      assert.ok(a.maxGap <= 0.5, `no hole in the video where the store was away (largest gap ${a.maxGap.toFixed(3)} s)`);
    } finally {
      await other.stop();
      await redis.kill().catch(() => undefined);
    }
  });
});

describe('a Redis Cluster master failing over during a recording', () => {
  it("the master of the task's shard killed: API calls answer the task or ServiceUnavailable within 1 s; once its replica has taken over the task answers again, and the recording finishes whole", async () => {
    const cluster = await startTestCluster(3, 1);
    const other = await startService({ REDIS_CLUSTER_NODES: cluster.seeds, CLUSTER_SECRET: 'failover-test-secret', RECORDER_SLOTS: '1' });
    try {
      const { TaskID } = await other.client.start({ RecordURL: pages.url('counter.html') });
      await other.client.waitFor(TaskID, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
      const recordingAt = Date.now();
      await sleep(2000);
      const master = await cluster.masterOf(keys.task(TaskID));
      const failedOver = cluster.failOver(master);
      const killedAt = Date.now();
      const seen: string[] = [];
      let done = false;
      void failedOver.then(() => (done = true));
      // Until the cluster is whole again, and a while after.
      while (!done || Date.now() - killedAt < 8000) {
        const t0 = Date.now();
        const { status, answer } = await other.client.call('Describe', { TaskID });
        const ms = Date.now() - t0;
        assert.ok(ms < 1000, `Describe answered in ${ms} ms`);
        if (status === 503) assert.equal(answer.ErrorCode, 'ServiceUnavailable', JSON.stringify(answer));
        else assert.equal(answer.Status, 'recording', JSON.stringify(answer));
        seen.push(status === 503 ? 'unavailable' : String(answer.Status));
        await sleep(100);
        assert.ok(Date.now() - killedAt < 40_000, 'the failover ends');
      }
      await failedOver;
      console.log(`answers during the failover: ${seen.join(' ')}`);
      assert.ok(seen.includes('unavailable'), 'the shard was away for a while');
      assert.equal(seen.at(-1), 'recording', 'the task answers again from the promoted replica');
      assert.notEqual(await cluster.masterOf(keys.task(TaskID)), master, 'another node serves the shard');
      const a = await stopAndCheck(other, TaskID, recordingAt);
      assert.ok(a.maxGap <= 0.5, `no hole in the video where the shard was away (largest gap ${a.maxGap.toFixed(3)} s)`);
    } finally {
      await other.stop();
      await cluster.stop();
    }
  });
});
