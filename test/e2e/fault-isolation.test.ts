// One recording's faults stay in that recording: while B records, A's ffmpeg is killed (A goes on,
// its file made again from the intermediate one at Stop), then A's browser (A ends RecordFailed with
// what it recorded); then the disks under C's intermediate file and D's HLS segments fill (tmpfs
// mounted where they are written: B's files, already open, are not on them), and each ends
// RecordFailed naming the full disk and where, with what it recorded. B is untouched: it finishes normally at full frame rate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeBytes } from '../../lib/disk-space.js';
import { download } from '../helpers/download.js';
import { analyse, maxGap, videoFrameTimes } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { processesOfTask, type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;
const mounts: string[] = [];
/** Over MIN_FREE_DISK_MB, so that the job is taken; then filled to LEAVE_MB, under a quarter of it. */
const MIN_FREE_DISK_MB = 64;
const DISK_MB = 72;
const LEAVE_MB = 8;
const fullDisk = (path: string) =>
  new RegExp(
    `^the disk under ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is full: \\d+ MB free, under a quarter of MIN_FREE_DISK_MB \\(${MIN_FREE_DISK_MB} MB\\); the video holds what was recorded until then$`,
  );

/** A disk of sizeMb mounted over dir, until umount(dir). */
function fillableDisk(dir: string, sizeMb: number): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
  mounts.push(dir);
}
/** Fills the disk under dir until leaveMb are free. */
async function fillTo(dir: string, leaveMb: number): Promise<void> {
  const chunk = Buffer.alloc(1 << 20, 7);
  for (let i = 0; (await freeBytes(dir)) > leaveMb * (1 << 20); i++) writeFileSync(join(dir, `filler-${i}`), chunk);
}
function umount(dir: string): void {
  execFileSync('umount', ['-l', dir]);
  mounts.splice(mounts.indexOf(dir), 1);
}

before(async () => {
  pages = await startPageServer();
  svc = await startService({ RECORDER_SLOTS: '2', ADMISSION_CPU_CORES: '0', MIN_FREE_DISK_MB: String(MIN_FREE_DISK_MB) });
});
after(async () => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
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
  it("A's ffmpeg, then A's browser, killed, then C's and D's disks filled while B records: B finishes normally at full frame rate; each of the others ends saying why", async () => {
    const b = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
    const a = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
    await svc.client.waitFor(b, 'recording', { timeoutMs: 30_000, intervalMs: 50 });
    // B's first frame, on the wall clock (to within the polling): its video's time 0.
    const bFrom = Date.now();
    await svc.client.waitFor(a, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
    // A's start (its browser launched beside B's) is not one of the faults.
    await sleep(4000);

    // Each fault's window (wall clock), in which B's frame rate is judged.
    const windows: { what: string; from: number; to: number }[] = [];
    const ffmpeg = processesOfTask(svc.logFile, a).filter((pid) => /^\S*ffmpeg\s/.test(cmdline(pid)));
    assert.equal(ffmpeg.length, 1, "A's live ffmpeg");
    const aFrom = Date.now();
    process.kill(ffmpeg[0]!, 'SIGKILL');
    await sleep(2000);
    assert.equal((await svc.client.describe(a)).Status, 'recording', 'A records on without its live ffmpeg');

    const browser = processesOfTask(svc.logFile, a).filter((pid) => /^\S*chromium\s/.test(cmdline(pid)) && !cmdline(pid).includes('--type='));
    assert.equal(browser.length, 1, "A's browser");
    process.kill(browser[0]!, 'SIGKILL');
    const aTask = await svc.client.waitFor(a, 'finished', { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(aTask.Result.ErrorCode, 'RecordFailed');
    assert.match(aTask.Result.ErrorMessage ?? '', /the browser or the page crashed; the video holds what was recorded until then/);
    await sleep(3000);
    windows.push({ what: "A's ffmpeg and browser killed", from: aFrom, to: Date.now() });
    assert.equal(aTask.Result.Videos.length, 1, "A's video of what it recorded");

    // C's intermediate file on a disk of its own, filled (by something else) while C records: C ends
    // with that disk named, and the video its live output (elsewhere) holds.
    const cfs = join(svc.dataDir, 'cfs');
    fillableDisk(cfs, DISK_MB);
    const c = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
    await svc.client.waitFor(c, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(2000);
    const cFrom = Date.now();
    await fillTo(cfs, LEAVE_MB);
    const cTask = await svc.client.waitFor(c, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    umount(cfs);
    await sleep(3000);
    windows.push({ what: "C's disk filled", from: cFrom, to: Date.now() });
    assert.equal(cTask.Result.ErrorCode, 'RecordFailed');
    assert.match(cTask.Result.ErrorMessage ?? '', fullDisk(join(cfs, c, '1.mkv')));
    assert.equal(cTask.Result.Videos.length, 1, "C's video of what it recorded");
    assert.ok(cTask.Result.Videos[0]!.FileDuration > 1.5, `C's video holds ${cTask.Result.Videos[0]!.FileDuration} s`);

    // D's HLS segments on a disk of its own, filled while D records (ffmpeg's HLS muxer would go on
    // silently past a segment it cannot write): D ends with its folder named, and the segments it wrote.
    const files = join(svc.dataDir, 'files');
    fillableDisk(files, DISK_MB);
    const d = (await svc.client.start({ RecordURL: pages.url('counter.html'), Output: { Video: { Muxer: 'hls' } } })).TaskID;
    await svc.client.waitFor(d, 'recording', { timeoutMs: 30_000, intervalMs: 100 });
    await sleep(4000);
    const dFrom = Date.now();
    await fillTo(files, LEAVE_MB);
    const dTask = await svc.client.waitFor(d, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    const dDir = join(svc.dataDir, 'd-hls');
    execFileSync('cp', ['-r', join(files, d), dDir]);
    umount(files);
    await sleep(3000);
    windows.push({ what: "D's disk filled", from: dFrom, to: Date.now() });
    assert.equal(dTask.Result.ErrorCode, 'RecordFailed');
    assert.match(dTask.Result.ErrorMessage ?? '', fullDisk(join(files, d)));
    assert.equal(dTask.Result.Videos.length, 1, "D's video of what it recorded");
    const hls = analyse(join(dDir, 'index.m3u8'));
    assert.ok(
      hls.info.duration > 3 && Math.abs(hls.info.duration - dTask.Result.Videos[0]!.FileDuration) < 1,
      `D's playlist holds ${hls.info.duration} s, told ${dTask.Result.Videos[0]!.FileDuration} s`,
    );

    const bUntil = Date.now();
    await svc.client.stop(b);
    const bTask = await svc.client.waitFor(b, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    assert.equal(bTask.Result.ErrorCode, undefined, JSON.stringify(bTask.Result));
    // Nothing of the others' faults reaches B. (Three browsers launched cold beside it on two cores
    // may dip its rate for a while, which it may be told of; its rate is judged in each fault below.)
    const told = (bTask.Warnings ?? []).filter((w) => !/frames per second over its last/.test(w.Message));
    assert.deepEqual(told, [], `B heard of nothing: ${JSON.stringify(told)}`);
    const file = join(svc.dataDir, `${b}.mp4`);
    await download(bTask.Result.Videos[0]!.FileURL, file);
    const v = analyse(file);
    const want = (bUntil - bFrom) / 1000;
    assert.ok(v.info.duration >= want - 0.5, `B's video ${v.info.duration} s, recorded ${want.toFixed(1)} s`);
    const at = (wall: number) => (wall - bFrom) / 1000;
    const times = videoFrameTimes(file);
    assert.equal(times.length, v.counters.length);
    for (const w of windows) {
      const [from, to] = [at(w.from), at(w.to)];
      const inside = times.flatMap((t, i) => (t >= from && t < to ? [i] : []));
      const seen = new Set(inside.map((i) => v.counters[i]));
      // Each window holds the other's finishing too (its remux, its browser closing), on two cores:
      // a frame a second of slack under the steady rate (27.89 seen once in 3 s).
      assert.ok(seen.size / (to - from) >= 27, `B's distinct frames per second while ${w.what} (${from.toFixed(1)}–${to.toFixed(1)} s): ${(seen.size / (to - from)).toFixed(2)}`);
      const gap = maxGap(inside.map((i) => times[i]!));
      assert.ok(gap <= 0.3, `B's largest frame gap while ${w.what}: ${gap.toFixed(3)} s`);
    }
    await waitFor(() => svc.child.exitCode === null, { timeoutMs: 100, what: 'the service alive' });
  });
});
