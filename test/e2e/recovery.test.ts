// No recording is lost: a recorder killed mid-recording, or the whole service, and the task still
// ends finished (RecorderLost) with everything recorded up to the last chunk.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../../lib/child-process.js';
import { recorderHome } from '../../recorder/recorder.js';
import { download } from '../helpers/download.js';
import { decodeErrors, mediaInfo } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { scratchDir } from '../helpers/scratch.js';
import { type Answer, processesOf, type RunningService, startRecorderProcess, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let pages: PageServer;
before(async () => {
  pages = await startPageServer();
});
after(async () => {
  await pages?.close();
});

async function assertLostButKept(svc: RunningService, task: Answer, minSeconds: number): Promise<void> {
  assert.equal(task.Status, 'finished');
  assert.equal(task.Result.ErrorCode, 'RecorderLost', JSON.stringify(task.Result));
  assert.equal(task.Result.Videos.length, 1, 'the video of what was recorded');
  const file = join(svc.dataDir, `${task.TaskID}-recovered.mp4`);
  await download(task.Result.Videos[0].FileURL, file);
  assert.equal(await decodeErrors(file), '');
  const info = mediaInfo(file);
  assert.ok(info.duration >= minSeconds, `${info.duration} s recovered, want ≥ ${minSeconds}`);
  assert.ok(Math.abs(task.Result.Videos[0].FileDuration - info.duration) < 0.05);
  assert.equal(info.video?.codec, 'h264');
  assert.equal(info.audio?.codec, 'aac');
}

describe('a recorder killed with SIGKILL 5 s into a recording', () => {
  let redis: TestRedis;
  let api: RunningService;
  const dataDir = scratchDir('recovery');

  before(async () => {
    redis = await startTestRedis();
    api = await startService({ REDIS_URL: redis.url, ROLE: 'api' }, { dataDir });
  });
  after(async () => {
    await api?.stop();
    await redis?.stop();
  });

  it('another recorder finishes the task from the intermediate file: RecorderLost, ≥ 4 s of video, no orphans', async () => {
    const env = { REDIS_URL: redis.url, PUBLIC_URL: api.url, RECORDER_SLOTS: '1' };
    const first = await startRecorderProcess(env, dataDir);
    const { TaskID: id } = await api.api('Start', { RecordURL: pages.url('counter.html') });
    await api.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    assert.ok(processesOf(first.runMarker).length > 2, 'its Chromium is running');
    await first.stop('SIGKILL');
    await waitFor(() => processesOf(first.runMarker).length === 0, {
      timeoutMs: 5000,
      what: () => `no orphans of the killed recorder (left: ${processesOf(first.runMarker).join(', ')})`,
    });

    // Leftovers of a dead recorder of this place are ended by the next one; others' are not.
    const home = recorderHome(dataDir);
    const fake = (vars: Record<string, string>) => spawn('sleep', ['600'], { env: { ...process.env, ...vars }, stdio: 'ignore' });
    const leftover = fake({ WEBRECORD_RECORDER_HOME: home, WEBRECORD_RECORDER_PID: String(first.child.pid) });
    const elsewhere = fake({ WEBRECORD_RECORDER_HOME: 'someone-else', WEBRECORD_RECORDER_PID: String(first.child.pid) });
    const living = fake({ WEBRECORD_RECORDER_HOME: home, WEBRECORD_RECORDER_PID: String(process.pid) });
    const second = await startRecorderProcess(env, dataDir);
    try {
      await waitFor(() => !isAlive(leftover.pid!), { timeoutMs: 5000, what: 'the leftover to be ended' });
      assert.ok(isAlive(elsewhere.pid!), "another place's process is left alone");
      assert.ok(isAlive(living.pid!), "a live recorder's process is left alone");

      const task = await api.waitForStatus(id, 'finished', 60_000);
      await assertLostButKept(api, task, 4);
    } finally {
      elsewhere.kill('SIGKILL');
      living.kill('SIGKILL');
      leftover.kill('SIGKILL');
      await second.stop();
    }
  });
});

describe('the whole service killed with SIGKILL and started again on the same DATA_DIR', () => {
  it('the interrupted task finishes with what was recorded', async () => {
    const dataDir = scratchDir('restart');
    const svc = await startService({}, { dataDir });
    const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    await svc.stop('SIGKILL');
    await waitFor(() => processesOf(svc.runMarker).length === 0, { timeoutMs: 5000, what: 'its children to die with it' });
    const again = await startService({}, { dataDir });
    try {
      const task = await again.waitForStatus(id, 'finished', 60_000);
      await assertLostButKept(again, task, 4);
    } finally {
      await again.stop();
    }
  });
});
