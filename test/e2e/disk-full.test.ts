// DATA_DIR on a small tmpfs that two recordings fill: both end finished, saying the disk is full and
// keeping their videos so far; the service answers throughout; a third Start waits (it is not
// refused) until space is freed, then records; with the disk wholly full (the store's append-only
// file too) a Start answers ServiceUnavailable until there is room. And a write that meets a full
// disk throws nowhere.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeBytes } from '../../lib/disk-space.js';
import { IntermediateFile } from '../../recorder/sinks/intermediate-file.js';
import { download } from '../helpers/download.js';
import { analyse } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { scratchDir } from '../helpers/scratch.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;
const mounts: string[] = [];
let pages: PageServer;

function tmpfs(sizeMb: number): string {
  const dir = scratchDir('tmpfs');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

before(async () => {
  pages = await startPageServer();
});
after(async () => {
  await pages?.close();
  for (const m of mounts) execFileSync('umount', ['-l', m]);
});

describe('a full disk', () => {
  it('a write that meets it fails once, without throwing, naming the disk and the file', async () => {
    const dir = tmpfs(1);
    const file = await IntermediateFile.create(join(dir, 'cfs', 't', '1.mkv'));
    const failures: Error[] = [];
    file.onFailure = (err) => failures.push(err);
    const chunk = Buffer.alloc(256 * 1024, 1);
    for (let i = 0; i < 8; i++) await file.write(chunk); // 2 MB into 1 MB: no rejection
    await file.close();
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.ok(file.bytes > 0 && file.bytes < 2 * MB, `${file.bytes} bytes kept`);
  });

  it('two recordings fill it: both finished, the disk named, videos kept; the API answers; a third Start waits for space, then records', async () => {
    const dataDir = tmpfs(220);
    const svc: RunningService = await startService({ MIN_FREE_DISK_MB: '64', RECORDER_SLOTS: '3', BROWSER_POOL: '0', ADMISSION_CPU_CORES: '0' }, { dataDir });
    try {
      const ids = [];
      // Noise: no encoder squeezes it, so the two fill the disk in seconds.
      for (let i = 0; i < 2; i++) ids.push((await svc.client.start({ RecordURL: pages.url('noise.html') })).TaskID);
      for (const id of ids) await svc.client.waitFor(id, 'recording', { timeoutMs: 30_000, intervalMs: 200 });

      // The API answers all the while; both end by themselves once the disk is full.
      const finished = await Promise.all(ids.map((id) => svc.client.waitFor(id, 'finished', { timeoutMs: 120_000, intervalMs: 250 })));
      for (const task of finished) {
        assert.equal(task.Result.ErrorCode, 'RecordFailed', JSON.stringify(task.Result));
        assert.match(task.Result.ErrorMessage ?? '', /^the disk under DATA_DIR is full: \d+ MB free, under a quarter of MIN_FREE_DISK_MB \(64 MB\); the video holds what was recorded until then$/);
        assert.ok(
          (task.Warnings ?? []).some((w) => /at the present rate it is full in about \d+ min/.test(w.Message)),
          `warned before: ${JSON.stringify(task.Warnings)}`,
        );
        const v = task.Result.Videos[0];
        assert.ok(v, 'the video so far is kept');
        const file = join(scratchDir('disk-out'), `${task.TaskID}.mp4`);
        await download(v.FileURL, file);
        const a = analyse(file);
        assert.equal(a.info.video?.codec, 'h264');
        assert.ok(a.info.duration >= 3, `${a.info.duration} s kept`);
      }

      // The operator makes room (the videos are fetched); then something else fills the disk under
      // MIN_FREE_DISK_MB: a third Start is taken, not refused, and waits for a recorder until the
      // space is freed. (What the two left free depends on how far each got: room is made first.)
      for (const id of ids) rmSync(join(dataDir, 'files', id), { recursive: true, force: true });
      // (The two videos, checked, go first: what is left free is then the filler's doing alone.)
      for (const dir of ['files', 'cfs']) for (const f of readdirSync(join(dataDir, dir))) rmSync(join(dataDir, dir, f), { recursive: true, force: true });
      const filler = join(dataDir, 'filler');
      mkdirSync(filler);
      const fill = Math.max(0, (await freeBytes(dataDir)) - 24 * MB);
      for (let left = fill, i = 0; left > 0; left -= 16 * MB, i++) writeFileSync(join(filler, String(i)), Buffer.alloc(Math.min(16 * MB, left)));
      const third = (await svc.client.start({ RecordURL: pages.url('counter.html') })).TaskID;
      await sleep(4000);
      assert.equal((await svc.client.describe(third)).Status, 'normal', 'waiting while the disk is full');
      rmSync(filler, { recursive: true, force: true });
      await svc.client.waitFor(third, 'recording', { timeoutMs: 30_000, intervalMs: 200 });
      await sleep(3000);
      await svc.client.stop(third);
      const done = await svc.client.waitFor(third, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
      assert.equal(done.Result.ErrorCode, undefined, JSON.stringify(done.Result));

      // The disk wholly full, the store's append-only file with it: Redis refuses writes (MISCONF), and
      // a Start answers 503 ServiceUnavailable (never 500) while Describe still reads; once there is
      // room, Starts are taken again.
      mkdirSync(filler);
      try {
        for (let i = 0; ; i++) writeFileSync(join(filler, String(i)), Buffer.alloc(MB));
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
      }
      const answers: number[] = [];
      for (let i = 0; i < 10 && !answers.includes(503); i++) {
        const { status, answer } = await svc.client.call('Start', { RecordURL: pages.url('counter.html') });
        answers.push(status);
        if (status === 503) assert.equal(answer.ErrorCode, 'ServiceUnavailable', JSON.stringify(answer));
        else assert.equal(status, 200, JSON.stringify(answer));
        await sleep(300);
      }
      assert.ok(answers.includes(503), `Starts on a full store answered ${answers.join(' ')}`);
      assert.equal((await svc.client.describe(third)).Status, 'finished', 'reads go on');
      rmSync(filler, { recursive: true, force: true });
      await waitFor(async () => (await svc.client.call('Start', { RecordURL: pages.url('counter.html') })).status === 200, { timeoutMs: 10_000, what: 'Starts taken again' });
      assert.equal(svc.child.exitCode, null, 'the service never stopped');
    } finally {
      await svc.stop();
      // The log lives on the tmpfs, which goes with the test: keep it where a failure can be read.
      copyFileSync(svc.logFile, join(scratchDir('disk-log'), 'service.log'));
    }
  });
});
