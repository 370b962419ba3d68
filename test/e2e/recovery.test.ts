// No recording is lost: the whole service killed mid-recording and started again on the same
// DATA_DIR, and the task still ends finished (RecorderLost) with everything recorded up to the last
// chunk. (A recorder killed while others run: many-hosts.test.ts, cos-intermediate.test.ts.)
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { download } from '../helpers/download.js';
import { decodeErrors, mediaInfo } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { scratchDir } from '../helpers/scratch.js';
import { type Answer, processesOf, type RunningService, startService } from '../helpers/service.js';
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

describe('the whole service killed with SIGKILL and started again on the same DATA_DIR', () => {
  it('nothing of it outlives it, and the interrupted task finishes with what was recorded', async () => {
    const dataDir = scratchDir('restart');
    const svc = await startService({}, { dataDir });
    const { TaskID: id } = await svc.api('Start', { Width: 640, Height: 360, RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    const during = processesOf(svc.runMarker).length;
    assert.ok(during >= 3, `redis-server and Chromium are running (${during} processes)`);
    await svc.stop('SIGKILL');
    // Nothing outlives it: its redis-server, Chromium and ffmpeg die with it.
    await waitFor(() => processesOf(svc.runMarker).length === 0, { timeoutMs: 5000, what: () => `its children to die with it (left: ${processesOf(svc.runMarker).join(', ')})` });
    const again = await startService({}, { dataDir });
    try {
      const task = await again.waitForStatus(id, 'finished', 60_000);
      await assertLostButKept(again, task, 4);
    } finally {
      await again.stop();
    }
  });
});
