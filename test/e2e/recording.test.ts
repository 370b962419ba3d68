// Recording end to end through HTTP on the embedded default (private redis-server, real Chromium,
// real ffmpeg), on a page that paints a frame counter and beeps. Every check is on the file itself.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../lib/net.js';
import { playsInChromium } from '../helpers/chromium-play.js';
import { analyse, avOffsetMs } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type Answer, processesOf, processesOfTask, type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;

before(async () => {
  pages = await startPageServer();
  svc = await startService({ RECORDER_SLOTS: '2' });
});
after(async () => {
  await svc?.stop();
  await pages?.close();
});

async function start(data: Record<string, unknown>): Promise<string> {
  const a = await svc.api('Start', data);
  assert.equal(a.ErrorCode, undefined, JSON.stringify(a));
  assert.match(a.TaskID, /^[0-9a-f-]{36}$/);
  return a.TaskID as string;
}

async function ok(action: string, taskId: string): Promise<void> {
  const a = await svc.api(action, { TaskID: taskId });
  assert.equal(a.ErrorCode, undefined, `${action}: ${JSON.stringify(a)}`);
  assert.equal(a.TaskID, taskId);
}

/** Waits for `finished`, checks the task left no process behind, downloads its one video. */
async function finishedVideo(taskId: string, timeoutMs = 60_000): Promise<{ task: Answer; file: string }> {
  const task = await svc.waitForStatus(taskId, 'finished', timeoutMs);
  assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
  assert.equal(task.Result.Videos.length, 1);
  const v = task.Result.Videos[0];
  assert.match(v.FileURL, new RegExp(`^${svc.url}/files/${taskId}/\\d+\\.mp4$`));
  assert.equal(v.Filename, v.FileURL.split('/').pop());
  const res = await fetch(v.FileURL);
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(bytes.length, v.FileSize, 'FileSize is the size of the file served');
  const file = join(svc.dataDir, `${taskId}.mp4`);
  writeFileSync(file, bytes);
  await waitFor(() => processesOfTask(svc.logFile, taskId).length === 0, { timeoutMs: 5000, what: `no processes left of task ${taskId}` });
  return { task, file };
}

function assertVideo(file: string, reported: number, want: { width: number; height: number; duration: number; tolerance?: number }) {
  const a = analyse(file);
  assert.equal(a.info.video?.codec, 'h264');
  assert.equal(a.info.video?.width, want.width);
  assert.equal(a.info.video?.height, want.height);
  assert.equal(a.info.audio?.codec, 'aac');
  assert.ok(Math.abs(a.info.duration - want.duration) <= (want.tolerance ?? 0.5), `duration ${a.info.duration} s, want ${want.duration} ± ${want.tolerance ?? 0.5}`);
  assert.ok(Math.abs(reported - a.info.duration) < 0.05, `FileDuration ${reported} is the file's ${a.info.duration}`);
  assert.ok(a.meanVolumeDb > -40, `audio is not silent (mean ${a.meanVolumeDb} dB)`);
  return a;
}

describe('recording a page end to end', () => {
  it('6 s → MP4: H.264 at the asked size, AAC, 6 ± 0.5 s, ≥ 28 distinct fps, audible; plays in Chromium', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    const recording = await svc.waitForStatus(id, 'recording', 30_000);
    assert.ok(recording.StartTime >= recording.CreateTime);
    const resume = await svc.api('Resume', { TaskID: id });
    assert.equal(resume.ErrorCode, 'InvalidState', 'Resume while recording');
    await sleep(6000);
    await ok('Stop', id);
    await ok('Stop', id); // idempotent
    for (const action of ['Pause', 'Resume', 'Refresh']) {
      const a = await svc.api(action, { TaskID: id });
      assert.equal(a.ErrorCode, 'InvalidState', `${action} after Stop`);
    }
    const { task, file } = await finishedVideo(id);
    for (const k of ['CreateTime', 'StartTime', 'CancelTime', 'StopTime', 'FinishTime']) assert.equal(typeof task[k], 'number', k);
    assert.ok(task.CreateTime <= task.StartTime && task.StartTime <= task.CancelTime && task.CancelTime <= task.StopTime && task.StopTime <= task.FinishTime);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 6 });
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
    // Each beep against its flash (the strict figure, ≤ 50 ms, lives in `npm run bench:record`).
    const av = avOffsetMs(file);
    assert.ok(av && av.matched >= 4, `beeps matched to flashes: ${JSON.stringify(av)}`);
    assert.ok(Math.abs(av.median) <= 100, `audio/video offset ${av.median} ms`);
    await playsInChromium(task.Result.Videos[0].FileURL, a.info.duration);
  });

  it('Pause 3 s in the middle → one file of the recorded time only, no frame gap over 200 ms', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2500);
    await ok('Pause', id);
    assert.equal((await svc.api('Pause', { TaskID: id })).ErrorCode, 'InvalidState', 'Pause when paused');
    assert.equal((await svc.api('Describe', { TaskID: id })).Status, 'paused');
    await sleep(3000);
    await ok('Resume', id);
    await sleep(3000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 5.5, tolerance: 0.6 });
    assert.ok(a.maxGap <= 0.2, `largest frame gap ${a.maxGap.toFixed(3)} s`);
    // The page kept running while paused: its counter jumps by about 3 s worth of frames, once.
    const jumps = a.counters.slice(1).map((v, i) => v - a.counters[i]!);
    assert.ok(Math.max(...jumps) > 100, `the paused stretch is cut out (largest counter jump ${Math.max(...jumps)})`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  });

  it('Refresh in the middle → the page reloads, the recording goes on, no frame gap over 300 ms', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(3000);
    await ok('Refresh', id);
    await sleep(3000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 6, tolerance: 0.7 });
    assert.ok(a.maxGap <= 0.3, `largest frame gap ${a.maxGap.toFixed(3)} s`);
    const restarts = a.counters.slice(1).filter((v, i) => v < a.counters[i]! - 50).length;
    assert.equal(restarts, 1, 'the counter starts over once: the page was reloaded');
  });

  it("the page's own controls: startRecord, pauseRecord 3 s, resumeRecord, refreshPage → one file without the paused stretch, no gap over 300 ms, paused in Describe between", async () => {
    const mark = crypto.randomUUID();
    const id = await start({ RecordURL: pages.url('counter.html', { controls: 1, id: mark }), ManualStart: true });
    const note = (prefix: string) => pages.notes.get(mark)?.find((n) => n.text.startsWith(`${prefix}:`));
    const statuses: string[] = [];
    await waitFor(
      async () => {
        const s = (await svc.api('Describe', { TaskID: id })).Status as string;
        if (statuses.at(-1) !== s) statuses.push(s);
        return note('reloaded') !== undefined;
      },
      { timeoutMs: 40_000, intervalMs: 150, what: () => `the page to reload (notes ${JSON.stringify(pages.notes.get(mark))})` },
    );
    await sleep(2500);
    const stopAt = Date.now();
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);

    const said = Object.fromEntries((pages.notes.get(mark) ?? []).map((n) => [n.text.split(':')[0], n.text.slice(n.text.indexOf(':') + 1)]));
    assert.deepEqual(said, {
      start: 'ok',
      pause: 'ok',
      'pause-again': 'InvalidState: Pause needs a task that is recording; this task is paused',
      resume: 'ok',
      'resume-again': 'InvalidState: Resume needs a task that is paused; this task is recording',
      refresh: 'ok',
      reloaded: 'true',
    });
    assert.deepEqual(statuses.filter((s) => s !== 'normal'), ['recording', 'paused', 'recording'], `Describe followed the page (${statuses.join(' → ')})`);

    // What was asked to be recorded, as the page's notes timed it.
    const want = (note('pause')!.at - note('start')!.at + stopAt - note('resume')!.at) / 1000;
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: want, tolerance: 0.8 });
    assert.ok(a.maxGap <= 0.3, `largest frame gap ${a.maxGap.toFixed(3)} s`);
    const jumps = a.counters.slice(1).map((v, i) => v - a.counters[i]!);
    assert.ok(Math.max(...jumps) > 100, `the paused stretch is cut out (largest counter jump ${Math.max(...jumps)})`);
    const restarts = a.counters.slice(1).filter((v, i) => v < a.counters[i]! - 50).length;
    assert.equal(restarts, 1, 'the counter starts over once: the page was reloaded');
  });

  it('ManualStart → nothing is recorded before the page calls window.startRecord()', async () => {
    const mark = crypto.randomUUID();
    const id = await start({ RecordURL: pages.url('counter.html', { manual: 3000, stop: 7000, id: mark }), ManualStart: true });
    await sleep(2000);
    assert.equal((await svc.api('Describe', { TaskID: id })).Status, 'normal', 'not recording before startRecord()');
    // The page itself asks to stop, with window.stopRecord(), 4 s after starting.
    const { task, file } = await finishedVideo(id, 60_000);
    assert.ok(task.CancelTime, 'stopRecord() stops the task like a Stop');
    const startedAtFrame = pages.marks.get(mark);
    assert.ok(startedAtFrame && startedAtFrame > 100, `the page called startRecord() at frame ${startedAtFrame}`);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 4, tolerance: 0.7 });
    assert.ok(Math.min(...a.counters) >= startedAtFrame, `first recorded frame ${Math.min(...a.counters)} is not before frame ${startedAtFrame}`);
  });

  it('ManualStart never called, then Stop → finished with NothingRecorded and no videos', async () => {
    const id = await start({ RecordURL: pages.url('counter.html'), ManualStart: true });
    await sleep(2500); // the page is loaded and waiting
    await ok('Stop', id);
    const task = await svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'NothingRecorded');
    assert.deepEqual(task.Result.Videos, []);
    await waitFor(() => processesOfTask(svc.logFile, id).length === 0, { timeoutMs: 5000, what: 'no processes left' });
  });

  it('Stop the moment the task turns recording → a short video, never NothingRecorded', async () => {
    for (let i = 0; i < 3; i++) {
      const id = await start({ RecordURL: pages.url('counter.html') });
      await svc.waitForStatus(id, 'recording', 30_000);
      await ok('Stop', id);
      const { task, file } = await finishedVideo(id, 30_000);
      assert.ok(task.Result.Videos[0].FileDuration > 0, `a frame reported as recorded is in the file (${task.Result.Videos[0].FileDuration} s)`);
      assert.ok(analyse(file).frames >= 1);
    }
  });

  it('MaxDurationLimit 4 → stops by itself at 4 ± 1 s', async () => {
    const id = await start({ RecordURL: pages.url('counter.html'), MaxDurationLimit: 4 });
    const { task, file } = await finishedVideo(id, 60_000);
    assert.ok(task.CancelTime, 'the limit stopped it');
    assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 4, tolerance: 1 });
  });

  it('two recordings at once, at two sizes', async () => {
    const sizes = [
      { width: 960, height: 540 },
      { width: 640, height: 480 },
    ];
    const ids = await Promise.all(sizes.map((s) => start({ RecordURL: pages.url('counter.html'), Width: s.width, Height: s.height })));
    // Each may start at a different moment: expect each to hold from its own start to the Stop.
    const started = await Promise.all(ids.map((id) => svc.waitForStatus(id, 'recording', 30_000).then(() => performance.now())));
    await sleep(5000);
    const stopAt = performance.now();
    await Promise.all(ids.map((id) => ok('Stop', id)));
    const results = await Promise.all(ids.map((id) => finishedVideo(id)));
    results.forEach(({ task, file }, i) => {
      const expected = (stopAt - started[i]!) / 1000;
      const a = assertVideo(file, task.Result.Videos[0].FileDuration, { ...sizes[i]!, duration: expected, tolerance: 0.7 });
      assert.ok(a.distinctPerSecond >= 25, `recording ${i}: distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
    });
  });

  it('a page that fails to load → finished with PageLoadFailed', async () => {
    const refused = await start({ RecordURL: `http://127.0.0.1:${await freePort()}/nothing-listens-here` });
    const notFound = await start({ RecordURL: pages.url('status/404') });
    const a = await svc.waitForStatus(refused, 'finished', 30_000);
    assert.equal(a.Result.ErrorCode, 'PageLoadFailed');
    assert.match(a.Result.ErrorMessage, /ERR_CONNECTION_REFUSED/);
    const b = await svc.waitForStatus(notFound, 'finished', 30_000);
    assert.equal(b.Result.ErrorCode, 'PageLoadFailed');
    assert.equal(b.Result.ErrorMessage, 'RecordURL answered HTTP 404');
    assert.equal(a.StartTime, undefined);
  });

  it('a page with an alert and a beforeunload prompt records and reloads all the same', async () => {
    const id = await start({ RecordURL: pages.url('counter.html', { dialogs: 1 }) });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2000);
    await ok('Refresh', id);
    await sleep(2500);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 4.5, tolerance: 0.8 });
    const restarts = a.counters.slice(1).filter((v, i) => v < a.counters[i]! - 50).length;
    assert.equal(restarts, 1, 'the beforeunload prompt did not stop the reload');
  });

  it('Stop while the page is still loading ends the task at once', async () => {
    const id = await start({ RecordURL: pages.url('hang'), ReadyTimeout: 60 });
    await sleep(2500);
    const stopAt = Date.now();
    await ok('Stop', id);
    const task = await svc.waitForStatus(id, 'finished', 15_000);
    assert.ok(Date.now() - stopAt < 10_000, 'it did not wait for the 60 s ReadyTimeout');
    assert.equal(task.Result.ErrorCode, 'NothingRecorded');
  });

  it('a crashed page is reloaded and the recording goes on', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2000);
    const renderers = chromiumOf(id, (args) => args.includes('--type=renderer') && !args.includes('--extension-process'));
    assert.ok(renderers.length >= 1, 'the page has a renderer');
    for (const pid of renderers) process.kill(pid, 'SIGKILL'); // the page's, and a spare one if any
    await sleep(3000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 5, tolerance: 0.8 });
    assert.ok(a.counters.slice(1).some((v, i) => v < a.counters[i]! - 50), 'the page started over after the crash');
  });

  it('a browser that dies mid-recording: RecordFailed, with the video of what was recorded', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(4000);
    const [main] = chromiumOf(id, (args) => !args.includes('--type='));
    process.kill(main!, 'SIGKILL');
    const task = await svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'RecordFailed');
    assert.match(task.Result.ErrorMessage, /crashed; the video holds what was recorded until then/);
    assert.equal(task.Result.Videos.length, 1);
    const res = await fetch(task.Result.Videos[0].FileURL);
    const file = join(svc.dataDir, `${id}.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 3.5, tolerance: 1 });
  });

  it("the page's Chromium runs as webrecord-browser with its sandbox on (seccomp in the renderers), and that user can read nothing of DATA_DIR", async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    const uid = Number(spawnSync('id', ['-u', 'webrecord-browser'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'webrecord-browser'], { encoding: 'utf8' }).stdout.trim());
    assert.ok(uid > 0, 'the set-up made the user');
    const all = chromiumOf(id, () => true);
    assert.ok(all.length >= 4, `the task's Chromium processes (${all.length})`);
    const status = (pid: number, field: string) => /^(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))!.split(':')[1]!.trim())![1]!;
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
    const intermediate = join(svc.dataDir, 'cfs', id, '1.mkv');
    assert.ok(existsSync(intermediate), 'the intermediate file is there to try');
    for (const args of [['cat', intermediate], ['ls', svc.dataDir], ['ls', join(svc.dataDir, 'cfs')], ['ls', join(svc.dataDir, 'files')], ['ls', join(svc.dataDir, 'browsers')]]) {
      const r = asBrowser(args);
      assert.notEqual(r.status, 0, `${args.join(' ')} as webrecord-browser must fail`);
      assert.match(r.stderr, /Permission denied/, args.join(' '));
    }
    await ok('Stop', id);
    await finishedVideo(id);
  });

  it('no Chromium, ffmpeg or redis-server outlives the service', async () => {
    const id = await start({ RecordURL: pages.url('counter.html') });
    await svc.waitForStatus(id, 'recording', 30_000);
    assert.ok(processesOf(svc.runMarker).length > 1, 'while recording, its processes are there to count');
    await svc.stop('SIGTERM');
    await waitFor(() => processesOf(svc.runMarker).length === 0, {
      timeoutMs: 10_000,
      what: () => `no processes left (still: ${processesOf(svc.runMarker).join(', ')})`,
    });
  });
});

/** Chromium processes of a task whose command line passes `test`. */
function chromiumOf(taskId: string, test: (args: string) => boolean): number[] {
  return processesOfTask(svc.logFile, taskId).filter((pid) => {
    try {
      // Chromium's children rewrite their command line as one space-joined string.
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return /^\S*chromium\s/.test(cmd) && test(cmd);
    } catch {
      return false;
    }
  });
}
