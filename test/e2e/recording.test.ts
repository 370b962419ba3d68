// Recording end to end through HTTP on the embedded default (private redis-server, real Chromium,
// real ffmpeg), on a page that paints a frame counter and beeps. Every check is on the file itself:
// frame rate, gaps, durations, what the page showed; how recordings end is recording-outcomes.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { playsInChromium } from '../helpers/chromium-play.js';
import { avOffsetMs } from '../helpers/media.js';
import { recordingFile } from '../helpers/recording-steps.js';
import { sleep, waitFor } from '../helpers/wait.js';

const { on, start, ok, finishedVideo, assertVideo, chromiumOf } = recordingFile({ RECORDER_SLOTS: '2' });

describe('recording a page end to end', () => {
  it('6 s → MP4: H.264 at the asked size, AAC, 6 ± 0.5 s, ≥ 28 distinct fps, audible; plays in Chromium', async () => {
    const id = await start({ RecordURL: on.pages.url('counter.html') });
    const recording = await on.svc.waitForStatus(id, 'recording', 30_000);
    assert.ok(recording.StartTime >= recording.CreateTime);
    const resume = await on.svc.api('Resume', { TaskID: id });
    assert.equal(resume.ErrorCode, 'InvalidState', 'Resume while recording');
    await sleep(6000);
    await ok('Stop', id);
    await ok('Stop', id); // idempotent
    for (const action of ['Pause', 'Resume', 'Refresh']) {
      const a = await on.svc.api(action, { TaskID: id });
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
    const id = await start({ RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2500);
    await ok('Pause', id);
    assert.equal((await on.svc.api('Pause', { TaskID: id })).ErrorCode, 'InvalidState', 'Pause when paused');
    assert.equal((await on.svc.api('Describe', { TaskID: id })).Status, 'paused');
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
    const id = await start({ RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
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
    const id = await start({ RecordURL: on.pages.url('counter.html', { controls: 1, id: mark }), ManualStart: true });
    const note = (prefix: string) => on.pages.notes.get(mark)?.find((n) => n.text.startsWith(`${prefix}:`));
    const statuses: string[] = [];
    await waitFor(
      async () => {
        const s = (await on.svc.api('Describe', { TaskID: id })).Status as string;
        if (statuses.at(-1) !== s) statuses.push(s);
        return note('reloaded') !== undefined;
      },
      { timeoutMs: 40_000, intervalMs: 150, what: () => `the page to reload (notes ${JSON.stringify(on.pages.notes.get(mark))})` },
    );
    await sleep(2500);
    const stopAt = Date.now();
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);

    const said = Object.fromEntries((on.pages.notes.get(mark) ?? []).map((n) => [n.text.split(':')[0], n.text.slice(n.text.indexOf(':') + 1)]));
    assert.deepEqual(said, {
      start: 'ok',
      pause: 'ok',
      'pause-again': 'InvalidState: Pause needs a task that is recording; this task is paused',
      resume: 'ok',
      'resume-again': 'InvalidState: Resume needs a task that is paused; this task is recording',
      refresh: 'ok',
      reloaded: 'true',
    });
    assert.deepEqual(
      statuses.filter((s) => s !== 'normal'),
      ['recording', 'paused', 'recording'],
      `Describe followed the page (${statuses.join(' → ')})`,
    );

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
    const id = await start({ RecordURL: on.pages.url('counter.html', { manual: 3000, stop: 7000, id: mark }), ManualStart: true });
    await sleep(2000);
    assert.equal((await on.svc.api('Describe', { TaskID: id })).Status, 'normal', 'not recording before startRecord()');
    // The page itself asks to stop, with window.stopRecord(), 4 s after starting.
    const { task, file } = await finishedVideo(id, 60_000);
    assert.ok(task.CancelTime, 'stopRecord() stops the task like a Stop');
    const startedAtFrame = on.pages.marks.get(mark);
    assert.ok(startedAtFrame && startedAtFrame > 100, `the page called startRecord() at frame ${startedAtFrame}`);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 4, tolerance: 0.7 });
    assert.ok(Math.min(...a.counters) >= startedAtFrame, `first recorded frame ${Math.min(...a.counters)} is not before frame ${startedAtFrame}`);
  });

  it('two recordings at once, at two sizes', async () => {
    const sizes = [
      { width: 960, height: 540 },
      { width: 640, height: 480 },
    ];
    const ids = await Promise.all(sizes.map((s) => start({ RecordURL: on.pages.url('counter.html'), Width: s.width, Height: s.height })));
    // Each may start at a different moment: expect each to hold from its own start to the Stop.
    const started = await Promise.all(ids.map((id) => on.svc.waitForStatus(id, 'recording', 30_000).then(() => performance.now())));
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

  it('a page with an alert and a beforeunload prompt records and reloads all the same', async () => {
    const id = await start({ RecordURL: on.pages.url('counter.html', { dialogs: 1 }) });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2000);
    await ok('Refresh', id);
    await sleep(2500);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 4.5, tolerance: 0.8 });
    const restarts = a.counters.slice(1).filter((v, i) => v < a.counters[i]! - 50).length;
    assert.equal(restarts, 1, 'the beforeunload prompt did not stop the reload');
  });

  it('a crashed page is reloaded and the recording goes on', async () => {
    const id = await start({ RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(2000);
    const renderers = chromiumOf(id, (args) => args.includes('--type=renderer') && !args.includes('--extension-process'));
    assert.ok(renderers.length >= 1, 'the page has a renderer');
    for (const pid of renderers) process.kill(pid, 'SIGKILL'); // the page's, and a spare one if any
    await sleep(3000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const a = assertVideo(file, task.Result.Videos[0].FileDuration, { width: 1280, height: 720, duration: 5, tolerance: 0.8 });
    assert.ok(
      a.counters.slice(1).some((v, i) => v < a.counters[i]! - 50),
      'the page started over after the crash',
    );
    // The quality report counts it: each crash reloaded, and told.
    const q = task.Result.Videos[0].Quality;
    assert.ok(q.Crashes >= 1, JSON.stringify(q));
    assert.equal(q.Reloads, q.Crashes, JSON.stringify(q));
    assert.ok(
      q.Warnings.some((w: string) => /the page crashed/.test(w)),
      JSON.stringify(q),
    );
  });
});
