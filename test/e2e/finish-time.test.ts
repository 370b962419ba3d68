// Stop → finished does not grow with the recording: the output is written while recording.
// (Generous bounds for a noisy machine; the strict figures live in `npm run bench:finish`.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep } from '../helpers/wait.js';

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

/** Records for `seconds`, then measures Stop → finished (polling Describe every 25 ms). */
async function stopToFinished(seconds: number): Promise<number> {
  const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
  await svc.waitForStatus(id, 'recording', 30_000);
  await sleep(seconds * 1000);
  const t0 = performance.now();
  assert.equal((await svc.api('Stop', { TaskID: id })).ErrorCode, undefined);
  for (;;) {
    const t = await svc.api('Describe', { TaskID: id });
    if (t.Status === 'finished') {
      assert.equal(t.Result.ErrorCode, undefined);
      assert.ok(Math.abs(t.Result.Videos[0].FileDuration - seconds) < 1, `the ${seconds} s recording is all there`);
      return performance.now() - t0;
    }
    await sleep(25);
  }
}

describe('Stop → finished', () => {
  it('takes about as long after 60 s of recording as after 10 s (ratio ≤ 1.5)', async () => {
    const short = await stopToFinished(10);
    const long = await stopToFinished(60);
    // Below half a second, differences are scheduling noise on a busy 2-core machine, not growth.
    const ratio = long / Math.max(short, 500);
    console.log(`Stop → finished: 10 s recording ${Math.round(short)} ms, 60 s recording ${Math.round(long)} ms, ratio ${ratio.toFixed(2)}`);
    assert.ok(ratio <= 1.5, `ratio ${ratio.toFixed(2)} (10 s: ${Math.round(short)} ms, 60 s: ${Math.round(long)} ms)`);
  });
});
