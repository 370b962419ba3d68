// Two regions, each with its own Redis and host, on loopback, told of each other by REGION_ENDPOINTS:
// any region's endpoint answers for any TaskID, a Start goes where Data.Region says, and a region
// whose store is away is ServiceUnavailable for its own tasks only, never a wrong TaskNotFound.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../lib/net.js';
import { analyse, decodeErrors } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startPlainRedis } from '../helpers/redis.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SECRET = 'regions-test-cluster-secret-0123';
let pages: PageServer;
let redisA: Awaited<ReturnType<typeof startPlainRedis>>;
let redisB: Awaited<ReturnType<typeof startPlainRedis>>;
let a: RunningService;
let b: RunningService;

before(async () => {
  pages = await startPageServer();
  [redisA, redisB] = await Promise.all([startPlainRedis(), startPlainRedis()]);
  const [portA, portB] = [await freePort(), await freePort()];
  const endpoints = `ra=http://127.0.0.1:${portA},rb=http://127.0.0.1:${portB}`;
  [a, b] = await Promise.all([
    startService({ REDIS_URL: redisA.url, REGION: 'ra', CLUSTER_SECRET: SECRET, REGION_ENDPOINTS: endpoints }, { port: portA }),
    startService({ REDIS_URL: redisB.url, REGION: 'rb', CLUSTER_SECRET: SECRET, REGION_ENDPOINTS: endpoints, BROWSER_POOL: '0' }, { port: portB }),
  ]);
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([redisA?.kill(), redisB?.kill()]);
  await pages?.close();
});

describe('two regions', () => {
  it("a Start in region A, then every command and Describe sent to region B's endpoint; the video fetched through B", async () => {
    const started = await a.api('Start', { RecordURL: pages.url('counter.html'), Width: 640, Height: 360 });
    const taskId = started.TaskID as string;
    assert.match(taskId, /^ra-[0-9a-f-]{36}$/, JSON.stringify(started));
    await b.waitForStatus(taskId, 'recording', 30_000);
    const recordingAt = Date.now();
    await sleep(2000);
    const pauseAt = Date.now();
    assert.equal((await b.api('Pause', { TaskID: taskId })).ErrorCode, undefined);
    assert.equal((await b.api('Describe', { TaskID: taskId })).Status, 'paused');
    assert.equal((await b.api('Pause', { TaskID: taskId })).ErrorCode, 'InvalidState', 'the state rules are region A’s, answered through B');
    await sleep(1000);
    assert.equal((await b.api('Resume', { TaskID: taskId })).ErrorCode, undefined);
    const resumedAt = Date.now();
    assert.equal((await b.api('Refresh', { TaskID: taskId })).ErrorCode, undefined);
    await sleep(2000);
    const stopAt = Date.now();
    assert.equal((await b.api('Stop', { TaskID: taskId })).ErrorCode, undefined);
    const task = await b.waitForStatus(taskId, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    assert.deepEqual(task, { ...(await a.api('Describe', { TaskID: taskId })), RequestID: task.RequestID }, 'B answers what A holds');

    const path = new URL(task.Result.Videos[0].FileURL as string).pathname;
    const res = await fetch(b.url + path);
    assert.equal(res.status, 200);
    const file = join(b.dataDir, 'from-a.mp4');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assert.equal(await decodeErrors(file), '');
    const info = analyse(file).info;
    const want = (pauseAt - recordingAt + stopAt - resumedAt) / 1000;
    assert.ok(Math.abs(info.duration - want) <= 1, `duration ${info.duration} s, want ${want.toFixed(2)}`);

    const listed = await b.api('ListTasks', { Region: 'ra' });
    assert.ok(
      (listed.Tasks as { TaskID: string }[]).some((t) => t.TaskID === taskId),
      'ListTasks of region A through B',
    );
    assert.ok(!((await b.api('ListTasks', {})).Tasks as { TaskID: string }[]).some((t) => t.TaskID === taskId), "B's own list holds B's tasks");
  });

  it('Data.Region sends a Start to that region; an unknown region is InvalidParam, a TaskID of one TaskNotFound', async () => {
    const there = await b.api('Start', { RecordURL: pages.url('counter.html'), Region: 'ra', ManualStart: true });
    assert.match(there.TaskID as string, /^ra-/, JSON.stringify(there));
    assert.equal((await a.api('Describe', { TaskID: there.TaskID })).TaskID, there.TaskID);
    assert.equal((await b.api('Stop', { TaskID: there.TaskID })).ErrorCode, undefined);

    const unknown = await b.api('Start', { RecordURL: pages.url('counter.html'), Region: 'mars' });
    assert.equal(unknown.ErrorCode, 'InvalidParam');
    assert.match(String(unknown.ErrorMessage), /^Data\.Region "mars" is not a region of this service \(its regions: rb, ra\)$/);
    const badList = await b.api('ListTasks', { Region: 'mars' });
    assert.equal(badList.ErrorCode, 'InvalidParam');

    const nowhere = await b.api('Describe', { TaskID: 'mars-00000000-0000-4000-8000-000000000000' });
    assert.equal(nowhere.ErrorCode, 'TaskNotFound');
    const paused = await b.api('Pause', { TaskID: 'mars-00000000-0000-4000-8000-000000000000' });
    assert.equal(paused.ErrorCode, 'TaskNotFound');
    assert.match(String(paused.ErrorMessage), /names region mars, which is not a region of this service/);
  });

  it("region A's Redis stopped: B answers ServiceUnavailable for A's tasks, within 2 s, and keeps serving its own", async () => {
    const ofA = await a.api('Start', { RecordURL: pages.url('counter.html'), ManualStart: true });
    const ofB = await b.api('Start', { RecordURL: pages.url('counter.html'), ManualStart: true });
    assert.match(ofB.TaskID as string, /^rb-/);
    await redisA.kill();
    try {
      await waitFor(async () => (await a.post(JSON.stringify({ Action: 'Describe', Data: { TaskID: ofA.TaskID } }))).status === 503, { timeoutMs: 10_000, what: 'A to see its store gone' });
      for (const action of ['Describe', 'Pause', 'Stop']) {
        const t0 = Date.now();
        const r = await b.post(JSON.stringify({ Action: action, Data: { TaskID: ofA.TaskID } }));
        const ms = Date.now() - t0;
        assert.equal(r.status, 503, `${action}: ${JSON.stringify(r.json)}`);
        assert.equal(r.json.ErrorCode, 'ServiceUnavailable');
        assert.match(r.json.RequestID, /^[0-9a-f]{32}$/);
        assert.ok(ms < 2000, `${action} answered in ${ms} ms`);
      }
      const startThere = await b.post(JSON.stringify({ Action: 'Start', Data: { RecordURL: pages.url('counter.html'), Region: 'ra' } }));
      assert.equal(startThere.json.ErrorCode, 'ServiceUnavailable', 'nothing is started elsewhere instead');
      const own = await b.api('Describe', { TaskID: ofB.TaskID });
      assert.equal(own.TaskID, ofB.TaskID, 'B serves its own tasks');
      const fresh = await b.api('Start', { RecordURL: pages.url('counter.html'), ManualStart: true });
      assert.match(fresh.TaskID as string, /^rb-/, 'and takes new ones');
      await b.api('Stop', { TaskID: fresh.TaskID });
    } finally {
      await redisA.start();
    }
    await waitFor(async () => (await b.api('Describe', { TaskID: ofA.TaskID })).TaskID === ofA.TaskID, { timeoutMs: 20_000, what: "A's task answered again through B" });
    await b.api('Stop', { TaskID: ofA.TaskID });
    await b.api('Stop', { TaskID: ofB.TaskID });
  });
});
