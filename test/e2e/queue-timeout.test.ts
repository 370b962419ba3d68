// A task no recorder takes within QUEUE_TIMEOUT_S ends finished with NoRecorder, and its job expires
// with it: a recorder that comes later drops it unstarted instead of recording a task that is over.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { scratchDir } from '../helpers/scratch.js';
import { processesOf, type RunningService, startRecorderProcess, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let redis: TestRedis;
let api: RunningService;
const dataDir = scratchDir('queue-timeout');

before(async () => {
  redis = await startTestRedis();
  api = await startService({ REDIS_URL: redis.url, ROLE: 'api', QUEUE_TIMEOUT_S: '2' }, { dataDir });
});
after(async () => {
  await api?.stop();
  await redis?.stop();
});

describe('QUEUE_TIMEOUT_S', () => {
  it('no recorder within the timeout: finished, NoRecorder; a recorder that comes later does not record it', async () => {
    const { TaskID: id } = await api.api('Start', { RecordURL: 'http://127.0.0.1:9/never' });
    assert.equal((await api.api('Describe', { TaskID: id })).Status, 'normal');
    const task = await api.waitForStatus(id, 'finished', 15_000);
    assert.equal(task.Result.ErrorCode, 'NoRecorder');
    assert.match(task.Result.ErrorMessage, /no recorder took the task within 2 s \(QUEUE_TIMEOUT_S\)/);
    assert.deepEqual(task.Result.Videos, []);
    assert.ok(task.FinishTime - task.CreateTime >= 2 && task.FinishTime - task.CreateTime <= 5, `waited ${task.FinishTime - task.CreateTime} s`);

    const recorder = await startRecorderProcess({ REDIS_URL: redis.url, PUBLIC_URL: api.url, BROWSER_POOL: '0' }, dataDir);
    try {
      await waitFor(() => readFileSync(recorder.logFile, 'utf8').includes('dropping a Start job its task gave up waiting for'), {
        timeoutMs: 10_000,
        what: 'the recorder to drop the expired job',
      });
      await sleep(1000);
      assert.ok(!readFileSync(recorder.logFile, 'utf8').includes('"job accepted"'), 'the job was not started');
      assert.equal((await api.api('Describe', { TaskID: id })).Result.ErrorCode, 'NoRecorder', 'the task is as it ended');
    } finally {
      await recorder.stop();
    }
    assert.deepEqual(processesOf(recorder.runMarker), []);
  });
});
