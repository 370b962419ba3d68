// How recordings end, through HTTP on the embedded default (private redis-server, real Chromium, real
// ffmpeg): nothing recorded, stopped at once, by the limit, a page that does not load, a browser that
// dies, and the browser's sandbox (no process outliving a service: service-lifecycle.test.ts). The
// checks hold however slowly the machine records (frame rates and gaps are recording.test.ts's), so
// this file runs beside others.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../lib/net.js';
import { analyse } from '../helpers/media.js';
import { recordingFile } from '../helpers/recording-steps.js';
import { processesOfTask } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const { on, start, ok, finishedVideo, assertVideo, chromiumOf } = recordingFile({ RECORDER_SLOTS: '2' });
/** Recordings here are small: what they show is how they end, and the machine is shared with another file. */
const SMALL = { Width: 640, Height: 360 };

describe('how a recording ends', () => {
  it('ManualStart never called, then Stop → finished with NothingRecorded and no videos', async () => {
    const id = await start({ ...SMALL, RecordURL: on.pages.url('counter.html'), ManualStart: true });
    await sleep(2500); // the page is loaded and waiting
    await ok('Stop', id);
    const task = await on.svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'NothingRecorded');
    assert.deepEqual(task.Result.Videos, []);
    await waitFor(() => processesOfTask(on.svc.logFile, id).length === 0, { timeoutMs: 5000, what: 'no processes left' });
  });

  it('Stop the moment the task turns recording → a short video, never NothingRecorded', async () => {
    for (let i = 0; i < 2; i++) {
      const id = await start({ ...SMALL, RecordURL: on.pages.url('counter.html') });
      await on.svc.waitForStatus(id, 'recording', 30_000);
      await ok('Stop', id);
      const { task, file } = await finishedVideo(id, 30_000);
      assert.ok(task.Result.Videos[0].FileDuration > 0, `a frame reported as recorded is in the file (${task.Result.Videos[0].FileDuration} s)`);
      assert.ok(analyse(file).frames >= 1);
    }
  });

  it('MaxDurationLimit 4 → stops by itself at 4 ± 1 s', async () => {
    const id = await start({ ...SMALL, RecordURL: on.pages.url('counter.html'), MaxDurationLimit: 4 });
    const { task, file } = await finishedVideo(id, 60_000);
    assert.ok(task.CancelTime, 'the limit stopped it');
    assertVideo(file, task.Result.Videos[0].FileDuration, { width: 640, height: 360, duration: 4, tolerance: 1 });
  });

  it('a page that fails to load → finished with PageLoadFailed', async () => {
    const refused = await start({ RecordURL: `http://127.0.0.1:${await freePort()}/nothing-listens-here` });
    const notFound = await start({ RecordURL: on.pages.url('status/404') });
    const a = await on.svc.waitForStatus(refused, 'finished', 30_000);
    assert.equal(a.Result.ErrorCode, 'PageLoadFailed');
    assert.match(a.Result.ErrorMessage, /ERR_CONNECTION_REFUSED/);
    const b = await on.svc.waitForStatus(notFound, 'finished', 30_000);
    assert.equal(b.Result.ErrorCode, 'PageLoadFailed');
    assert.equal(b.Result.ErrorMessage, 'RecordURL answered HTTP 404');
    assert.equal(a.StartTime, undefined);
  });

  it('Stop while the page is still loading ends the task at once', async () => {
    const id = await start({ RecordURL: on.pages.url('hang'), ReadyTimeout: 60 });
    await sleep(2500);
    const stopAt = Date.now();
    await ok('Stop', id);
    const task = await on.svc.waitForStatus(id, 'finished', 15_000);
    assert.ok(Date.now() - stopAt < 10_000, 'it did not wait for the 60 s ReadyTimeout');
    assert.equal(task.Result.ErrorCode, 'NothingRecorded');
  });

  it('a browser that dies mid-recording: RecordFailed, with the video of what was recorded', async () => {
    const id = await start({ ...SMALL, RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(4000);
    const [main] = chromiumOf(id, (args) => !args.includes('--type='));
    process.kill(main!, 'SIGKILL');
    const task = await on.svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'RecordFailed');
    assert.match(task.Result.ErrorMessage, /crashed; the video holds what was recorded until then/);
    assert.equal(task.Result.Videos.length, 1);
    const res = await fetch(task.Result.Videos[0].FileURL);
    const file = join(on.svc.dataDir, `${id}.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assertVideo(file, task.Result.Videos[0].FileDuration, { width: 640, height: 360, duration: 3.5, tolerance: 1 });
  });

  it("the page's Chromium runs as webrecord-browser with its sandbox on (seccomp in the renderers), and that user can read nothing of DATA_DIR", async () => {
    const id = await start({ ...SMALL, RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    const uid = Number(spawnSync('id', ['-u', 'webrecord-browser'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'webrecord-browser'], { encoding: 'utf8' }).stdout.trim());
    assert.ok(uid > 0, 'the set-up made the user');
    const all = chromiumOf(id, () => true);
    assert.ok(all.length >= 4, `the task's Chromium processes (${all.length})`);
    const status = (pid: number, field: string) =>
      /^(\S+)/.exec(
        readFileSync(`/proc/${pid}/status`, 'utf8')
          .split('\n')
          .find((l) => l.startsWith(`${field}:`))!
          .split(':')[1]!
          .trim(),
      )![1]!;
    for (const pid of all) {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      assert.equal(Number(status(pid, 'Uid')), uid, `${pid} runs as webrecord-browser: ${cmd.slice(0, 80)}`);
      assert.ok(!cmd.includes('--no-sandbox'), `${pid} without --no-sandbox`);
    }
    const renderers = chromiumOf(id, (args) => args.includes('--type=renderer'));
    assert.ok(renderers.length >= 1);
    for (const pid of renderers) assert.equal(status(pid, 'Seccomp'), '2', `renderer ${pid} under seccomp`);

    // As that user: nothing under DATA_DIR opens (this task's intermediate file, the listing, the keys).
    const asBrowser = (args: string[]) => spawnSync(args[0]!, args.slice(1), { uid, gid, encoding: 'utf8' });
    const intermediate = join(on.svc.dataDir, 'cfs', id, '1.mkv');
    assert.ok(existsSync(intermediate), 'the intermediate file is there to try');
    for (const args of [
      ['cat', intermediate],
      ['ls', on.svc.dataDir],
      ['ls', join(on.svc.dataDir, 'cfs')],
      ['ls', join(on.svc.dataDir, 'files')],
      ['ls', join(on.svc.dataDir, 'browsers')],
    ]) {
      const r = asBrowser(args);
      assert.notEqual(r.status, 0, `${args.join(' ')} as webrecord-browser must fail`);
      assert.match(r.stderr, /Permission denied/, args.join(' '));
    }
    await ok('Stop', id);
    await finishedVideo(id);
  });
});
