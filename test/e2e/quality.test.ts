// The quality report of each video (Result.Videos[].Quality), measured by the service while it
// records, against the file itself: its frame count and gaps (ffprobe), where its decoded picture
// held still (freezedetect) and where its decoded sound was silent (silencedetect).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frozenStretches, maxGap, silentStretches, videoFrameTimes } from '../helpers/media.js';
import { recordingFile } from '../helpers/recording-steps.js';
import { sleep } from '../helpers/wait.js';

const { on, start, ok, finishedVideo } = recordingFile({ RECORDER_SLOTS: '1' });

type Stretches = { Count: number; TotalSeconds: number; List: { Start: number; Duration: number }[] };

/** The service's stretches match the decoded file's, each within `slack` seconds at both ends. */
function sameStretches(reported: Stretches, fromFile: { start: number; duration: number }[], slack: number, what: string) {
  const seen = JSON.stringify({ reported, fromFile });
  assert.equal(reported.Count, fromFile.length, `${what}: ${seen}`);
  assert.equal(reported.List.length, fromFile.length, `${what}: ${seen}`);
  reported.List.forEach((r, i) => {
    const f = fromFile[i]!;
    assert.ok(Math.abs(r.Start - f.start) <= slack, `${what} ${i} starts at ${r.Start}, the file's at ${f.start}: ${seen}`);
    assert.ok(Math.abs(r.Start + r.Duration - (f.start + f.duration)) <= slack, `${what} ${i} ends at ${r.Start + r.Duration}, the file's at ${f.start + f.duration}: ${seen}`);
  });
  const total = reported.List.reduce((s, r) => s + r.Duration, 0);
  assert.ok(Math.abs(reported.TotalSeconds - total) < 0.05, `${what}: TotalSeconds ${reported.TotalSeconds} is the listed ${total}`);
}

/** Frames per second and the longest frame gap, as reported, against the file's own packets. */
function sameTiming(q: { Fps: number; LongestFrameGap: number }, file: string, duration: number) {
  const times = videoFrameTimes(file);
  assert.ok(Math.abs(q.Fps - times.length / duration) <= 0.5, `Fps ${q.Fps}, the file has ${times.length} frames in ${duration} s`);
  assert.ok(Math.abs(q.LongestFrameGap - maxGap(times)) <= 0.04, `LongestFrameGap ${q.LongestFrameGap}, the file's ${maxGap(times).toFixed(3)}`);
}

describe('the quality report of a recording', () => {
  it('a page that freezes for 6 s and goes silent for 6 s: one frozen stretch of about 6 s, one silent stretch of about 6 s, as the file shows', async () => {
    // Times from the page's load; the recording starts a moment after it.
    const id = await start({ RecordURL: on.pages.url('still.html', { move: 1, freezeAt: 5000, freezeFor: 6000, tone: 1, muteAt: 3000, muteFor: 6000 }) });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(15_000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const video = task.Result.Videos[0];
    const q = video.Quality;
    assert.ok(q, `a quality report: ${JSON.stringify(video)}`);
    assert.equal(q.Frozen.Count, 1, JSON.stringify(q));
    assert.ok(Math.abs(q.Frozen.List[0].Duration - 6) <= 0.75, `frozen for ${q.Frozen.List[0].Duration} s`);
    assert.equal(q.Silent.Count, 1, JSON.stringify(q));
    assert.ok(Math.abs(q.Silent.List[0].Duration - 6) <= 0.5, `silent for ${q.Silent.List[0].Duration} s`);
    sameStretches(q.Frozen, frozenStretches(file), 0.75, 'frozen');
    sameStretches(q.Silent, silentStretches(file), 0.3, 'silent');
    sameTiming(q, file, video.FileDuration);
    assert.ok(q.Fps >= 25, `Fps ${q.Fps}`);
    assert.equal(q.Crashes, 0);
    assert.equal(q.Reloads, 0);
    // Whatever was told while it recorded (a busy machine may say its frame rate was low).
    assert.deepEqual(
      q.Warnings,
      (task.Warnings ?? []).map((w: { Message: string }) => w.Message),
    );
    // The callback's body and Describe are one view: Describe is checked here.
    assert.deepEqual((await on.svc.api('Describe', { TaskID: id })).Result.Videos[0].Quality, q);
  });

  it('a moving, beeping page refreshed once: nothing frozen or silent, one reload', async () => {
    const id = await start({ RecordURL: on.pages.url('counter.html') });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(4000);
    await ok('Refresh', id);
    await sleep(4000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const video = task.Result.Videos[0];
    const q = video.Quality;
    assert.equal(q.Frozen.Count, 0, JSON.stringify(q));
    assert.equal(q.Silent.Count, 0, JSON.stringify(q));
    assert.deepEqual(frozenStretches(file), [], 'the file has no frozen stretch either');
    assert.equal(q.Reloads, 1, JSON.stringify(q));
    assert.equal(q.Crashes, 0);
    sameTiming(q, file, video.FileDuration);
  });

  it('a page that never changes and makes no sound, at 1920×1080: frozen and silent from start to end', async () => {
    const id = await start({ RecordURL: on.pages.url('still.html'), Width: 1920, Height: 1080 });
    await on.svc.waitForStatus(id, 'recording', 30_000);
    await sleep(8000);
    await ok('Stop', id);
    const { task, file } = await finishedVideo(id);
    const video = task.Result.Videos[0];
    const q = video.Quality;
    assert.equal(q.Frozen.Count, 1, JSON.stringify(q));
    assert.ok(q.Frozen.List[0].Start <= 0.3, `frozen from ${q.Frozen.List[0].Start} s`);
    assert.ok(Math.abs(q.Frozen.TotalSeconds - video.FileDuration) <= 0.3, `frozen for ${q.Frozen.TotalSeconds} s of ${video.FileDuration}`);
    // Silent from the first sound the tab gave (its audio may begin a moment after the picture) to the end.
    assert.equal(q.Silent.Count, 1, JSON.stringify(q));
    assert.ok(q.Silent.TotalSeconds >= video.FileDuration - 1, `silent for ${q.Silent.TotalSeconds} s of ${video.FileDuration}`);
    sameStretches(q.Silent, silentStretches(file), 0.3, 'silent');
    sameStretches(q.Frozen, frozenStretches(file), 0.75, 'frozen');
    sameTiming(q, file, video.FileDuration);
  });
});
