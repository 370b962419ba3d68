// One recording's faults stay in that recording: while B records, A's ffmpeg is killed (A goes on,
// its file made again from the intermediate one at Stop), then A's browser (A ends RecordFailed with
// what it recorded). B is untouched: it finishes normally at full frame rate.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { download } from '../helpers/download.js';
import { analyse } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { processesOfTask, type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;

before(async () => {
  pages = await startPageServer();
  svc = await startService({ RECORDER_SLOTS: '2', ADMISSION_CPU_CORES: '0' });
});
after(async () => {
  await svc?.stop();
  await pages?.close();
});

const cmdline = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

describe('a fault in one recording', () => {
  it("A's ffmpeg, then A's browser, killed while B records: B finishes normally at full frame rate; A keeps what it recorded", async () => {
    const b = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
    const a = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
    for (const id of [a, b]) await svc.client.waitFor(id, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
    const bFrom = Date.now();
    await sleep(2000);

    const ffmpeg = processesOfTask(svc.logFile, a).filter((pid) => /^\S*ffmpeg\s/.test(cmdline(pid)));
    assert.equal(ffmpeg.length, 1, "A's live ffmpeg");
    process.kill(ffmpeg[0]!, 'SIGKILL');
    await sleep(2000);
    assert.equal((await svc.client.describe(a)).Status, 'recording', 'A records on without its live ffmpeg');

    const browser = processesOfTask(svc.logFile, a).filter((pid) => /^\S*chromium\s/.test(cmdline(pid)) && !cmdline(pid).includes('--type='));
    assert.equal(browser.length, 1, "A's browser");
    process.kill(browser[0]!, 'SIGKILL');
    const aTask = await svc.client.waitFor(a, 'finished', { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(aTask.Result.ErrorCode, 'RecordFailed');
    assert.match(aTask.Result.ErrorMessage ?? '', /the browser or the page crashed; the video holds what was recorded until then/);
    assert.equal(aTask.Result.Videos.length, 1, "A's video of what it recorded");

    await sleep(2000);
    const bUntil = Date.now();
    await svc.client.stop(b);
    const bTask = await svc.client.waitFor(b, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    assert.equal(bTask.Result.ErrorCode, undefined, JSON.stringify(bTask.Result));
    assert.equal(bTask.Warnings, undefined, `B heard of nothing: ${JSON.stringify(bTask.Warnings)}`);
    const file = join(svc.dataDir, `${b}.mp4`);
    await download(bTask.Result.Videos[0]!.FileURL, file);
    const v = analyse(file);
    const want = (bUntil - bFrom) / 1000;
    assert.ok(v.info.duration >= want - 0.5, `B's video ${v.info.duration} s, recorded ${want.toFixed(1)} s`);
    assert.ok(v.distinctPerSecond >= 28, `B's distinct frames per second ${v.distinctPerSecond.toFixed(2)}`);
    assert.ok(v.maxGap <= 0.3, `B's largest frame gap ${v.maxGap.toFixed(3)} s`);
    await waitFor(() => svc.child.exitCode === null, { timeoutMs: 100, what: 'the service alive' });
  });
});
