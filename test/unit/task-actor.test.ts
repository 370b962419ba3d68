import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ActorConfig, createTask, decide, indexesOf, MAX_ATTEMPTS, MAX_WARNINGS, START_ALLOWANCE_MS } from '../../actors/task-actor.js';
import { normalizeStart, TASK_COMMANDS, type TaskCommand } from '../../protocol/api.js';
import type { RecorderEvent } from '../../protocol/recorder.js';
import { TASK_STATUSES, type TaskRecord, type TaskStatus, toDescribe, type Video } from '../../protocol/task.js';

const T0 = 1_800_000_000_000;
const config: ActorConfig = { callback: { maxTries: 5, firstRetryDelayMs: 10_000, timeoutMs: 10_000, watchdogSlackMs: 5_000 }, queueTimeoutMs: 600_000 };
const nextAlarm = (t: TaskRecord) => indexesOf(t).alarmAt;
const heldBy = (t: TaskRecord) => indexesOf(t).watch;
const VIDEO: Video = { Filename: 'a.mp4', FileSize: 10, FileDuration: 6, FileURL: 'http://x/files/t/a.mp4' };

function task(status: TaskStatus, extra: Partial<TaskRecord> = {}, callbackUrl?: string): TaskRecord {
  const request = normalizeStart({ RecordURL: 'http://page.test/', MaxDurationLimit: 60, CallbackURL: callbackUrl });
  const { record } = createTask('t1', request, T0);
  const recording = status !== 'normal';
  return {
    ...record,
    Status: status,
    recorderId: 'rec-1',
    lastSeq: 2,
    ...(recording ? { StartTime: T0 + 1000, deadlineAt: T0 + 61_000 } : {}),
    ...(['canceled', 'transcode', 'upload', 'callback', 'finished'].includes(status) ? { CancelTime: T0 + 5000, deadlineAt: null } : {}),
    ...(['transcode', 'upload', 'callback', 'finished'].includes(status) ? { StopTime: T0 + 5500 } : {}),
    ...(status === 'finished' ? { FinishTime: T0 + 6000 } : {}),
    ...(status === 'callback' ? { callback: { tries: 1, nextAt: T0 + 20_000 } } : {}),
    ...extra,
  };
}

/** An event of rec-1, by default the next one a task() expects (its lastSeq is 2). */
function ev<T extends RecorderEvent['type']>(type: T, extra: Record<string, unknown> = {}, s = 3): RecorderEvent {
  return { TaskID: 't1', attempt: 1, recorderId: 'rec-1', seq: s, at: T0 + 2000, type, ...extra } as RecorderEvent;
}

const cmd = (command: TaskCommand) => ({ kind: 'command', command }) as const;

describe('TaskActor: creating a task', () => {
  it('starts normal and enqueues the Start job; while the job waits, only the queue timeout runs', () => {
    const request = normalizeStart({ RecordURL: 'http://page.test/', MaxDurationLimit: 4 });
    const d = createTask('t9', request, T0, config);
    assert.equal(d.record.Status, 'normal');
    assert.equal(d.record.CreateTime, T0);
    assert.deepEqual(d.effects, [{ type: 'enqueueStart', job: { TaskID: 't9', attempt: 1, request, mode: 'record', notAfter: T0 + 600_000 } }]);
    assert.equal(nextAlarm(d.record), T0 + 600_000, 'MaxDurationLimit does not run while the job waits; the queue timeout does');
    assert.equal(heldBy(d.record), null);
  });
});

describe('TaskActor: every status × every command', () => {
  // What each command does in each status: the new status, or 'InvalidState'.
  const expected: Record<TaskStatus, Record<TaskCommand, TaskStatus | 'InvalidState'>> = {
    normal: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'normal', Stop: 'canceled' },
    recording: { Pause: 'paused', Resume: 'InvalidState', Refresh: 'recording', Stop: 'canceled' },
    paused: { Pause: 'InvalidState', Resume: 'recording', Refresh: 'paused', Stop: 'canceled' },
    canceled: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'InvalidState', Stop: 'canceled' },
    transcode: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'InvalidState', Stop: 'transcode' },
    upload: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'InvalidState', Stop: 'upload' },
    callback: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'InvalidState', Stop: 'callback' },
    finished: { Pause: 'InvalidState', Resume: 'InvalidState', Refresh: 'InvalidState', Stop: 'finished' },
  };
  const recorderCommand: Partial<Record<TaskCommand, string>> = { Pause: 'pause', Resume: 'resume', Refresh: 'refresh', Stop: 'stop' };

  for (const status of TASK_STATUSES) {
    for (const command of TASK_COMMANDS) {
      const want = expected[status][command];
      it(`${command} when ${status} → ${want}`, () => {
        const before = task(status);
        const d = decide(before, cmd(command), T0 + 10_000, config);
        if (want === 'InvalidState') {
          assert.equal(d.reply.ok, false);
          assert.equal(!d.reply.ok && d.reply.code, 'InvalidState');
          assert.match(!d.reply.ok ? d.reply.message : '', new RegExp(`^${command} needs .* this task is ${status}$`));
          assert.equal(d.record, before, 'an invalid command changes nothing');
          assert.deepEqual(d.effects, []);
          return;
        }
        assert.deepEqual(d.reply, { ok: true });
        assert.equal(d.record.Status, want);
        const changed = want !== status || command === 'Refresh';
        if (changed && ['normal', 'recording', 'paused'].includes(status)) {
          assert.deepEqual(d.effects, [{ type: 'commandRecorder', recorderId: 'rec-1', command: { TaskID: 't1', attempt: 1, type: recorderCommand[command] } }]);
        } else {
          assert.equal(d.record, before, 'a repeated Stop changes nothing');
          assert.deepEqual(d.effects, []);
        }
        if (command === 'Stop' && want === 'canceled' && status !== 'canceled') {
          assert.equal(d.record.CancelTime, T0 + 10_000);
          assert.equal(d.record.deadlineAt, null);
        }
      });
    }
  }

  it('Stop before any recorder took the job finishes at once with NothingRecorded', () => {
    const d = decide(task('normal', { recorderId: null }), cmd('Stop'), T0 + 500, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'NothingRecorded');
    assert.equal(d.record.CancelTime, T0 + 500);
    assert.equal(d.record.FinishTime, T0 + 500);
    assert.deepEqual(d.effects, []);
  });

  it('Refresh before any recorder took the job is accepted and does nothing', () => {
    const before = task('normal', { recorderId: null });
    const d = decide(before, cmd('Refresh'), T0, config);
    assert.deepEqual(d.reply, { ok: true });
    assert.equal(d.record, before);
    assert.deepEqual(d.effects, []);
  });

  it('Stop twice: the second answers success and changes nothing', () => {
    const first = decide(task('recording'), cmd('Stop'), T0 + 3000, config);
    const second = decide(first.record, cmd('Stop'), T0 + 4000, config);
    assert.deepEqual(second.reply, { ok: true });
    assert.equal(second.record, first.record);
    assert.deepEqual(second.effects, []);
  });
});

describe('TaskActor: recorder events', () => {
  it('accepted records the recorder that holds the task; until the first frame the limit has the page load and browser start on top', () => {
    const d = decide(task('normal', { recorderId: null, deadlineAt: null }), { kind: 'event', event: { ...ev('accepted'), at: T0 + 9000 } }, T0, config);
    assert.equal(d.record.recorderId, 'rec-1');
    assert.equal(d.record.Status, 'normal');
    // MaxDurationLimit 60 s + ReadyTimeout (30 s by default) + the start allowance.
    assert.equal(nextAlarm(d.record), T0 + 9000 + 60_000 + 30_000 + START_ALLOWANCE_MS);
    assert.deepEqual(d.effects, []);
  });

  it('accepted after the task already ended tells that recorder to stop', () => {
    const ended = decide(task('normal', { recorderId: null }), cmd('Stop'), T0, config).record;
    const d = decide(ended, { kind: 'event', event: ev('accepted', { recorderId: 'rec-7' }) }, T0 + 100, config);
    assert.equal(d.record.Status, 'finished');
    assert.deepEqual(d.effects, [{ type: 'commandRecorder', recorderId: 'rec-7', command: { TaskID: 't1', attempt: 1, type: 'stop' } }]);
  });

  it('recording starts the task: StartTime from the first frame, deadline from it', () => {
    const d = decide(task('normal'), { kind: 'event', event: { ...ev('recording', { width: 1280, height: 720 }), at: T0 + 1234 } }, T0 + 1300, config);
    assert.equal(d.record.Status, 'recording');
    assert.equal(d.record.StartTime, T0 + 1234);
    assert.equal(d.record.deadlineAt, T0 + 1234 + 60_000);
    assert.equal(nextAlarm(d.record), T0 + 61_234);
  });

  it("paused and resumed from the recorder (the page's own controls) move the task between recording and paused", () => {
    const paused = decide(task('recording'), { kind: 'event', event: ev('paused') }, T0, config);
    assert.equal(paused.record.Status, 'paused');
    assert.deepEqual(paused.effects, [], 'the recorder is already paused: nothing to send');
    assert.equal(nextAlarm(paused.record), T0 + 61_000, 'MaxDurationLimit keeps running while paused');
    const resumed = decide(paused.record, { kind: 'event', event: ev('resumed', {}, 4) }, T0, config);
    assert.equal(resumed.record.Status, 'recording');
    assert.deepEqual(resumed.effects, []);
    // After Stop, or before recording, they change nothing but the sequence.
    for (const status of ['normal', 'canceled', 'transcode'] as const) {
      for (const type of ['paused', 'resumed'] as const) {
        assert.equal(decide(task(status), { kind: 'event', event: ev(type) }, T0, config).record.Status, status);
      }
    }
  });

  it('a Pause and a Resume in quick succession settle on what the recorder did last', () => {
    let t = decide(task('recording'), cmd('Pause'), T0, config).record;
    t = decide(t, cmd('Resume'), T0 + 10, config).record;
    assert.equal(t.Status, 'recording');
    t = decide(t, { kind: 'event', event: ev('paused') }, T0 + 20, config).record;
    assert.equal(t.Status, 'paused', 'the recorder was paused when it said so');
    t = decide(t, { kind: 'event', event: ev('resumed', {}, 4) }, T0 + 30, config).record;
    assert.equal(t.Status, 'recording');
  });

  it('a duplicate, a late event and an event of another attempt change nothing', () => {
    const base = task('recording', { lastSeq: 10 });
    for (const event of [ev('stopped', { recorded: true }, 10), ev('stopped', { recorded: true }, 3), { ...ev('stopped', { recorded: true }, 11), attempt: 2 }]) {
      const d = decide(base, { kind: 'event', event }, T0, config);
      assert.equal(d.record, base);
      assert.deepEqual(d.effects, []);
    }
  });

  it('warnings show in Describe with their time, newest last, the newest few kept', () => {
    let t = task('recording');
    assert.equal('Warnings' in toDescribe(t), false, 'no Warnings field until there is one');
    for (let i = 0; i < MAX_WARNINGS + 3; i++) {
      t = decide(t, { kind: 'event', event: { ...ev('warning', { message: `w${i}` }, 3 + i), at: T0 + i * 1000 } }, T0, config).record;
    }
    assert.equal(t.Status, 'recording');
    const w = toDescribe(t).Warnings!;
    assert.equal(w.length, MAX_WARNINGS);
    assert.deepEqual(w.at(-1), { Time: Math.floor((T0 + (MAX_WARNINGS + 2) * 1000) / 1000), Message: `w${MAX_WARNINGS + 2}` });
    assert.equal(w[0]!.Message, 'w3');
  });

  it('events are applied once: the same event delivered twice is dropped the second time', () => {
    const e = ev('uploading');
    const once = decide(task('transcode'), { kind: 'event', event: e }, T0, config).record;
    assert.equal(once.Status, 'upload');
    const twice = decide(once, { kind: 'event', event: e }, T0, config);
    assert.equal(twice.record, once);
  });

  it('the happy path: canceled → transcode → upload → finished with videos', () => {
    let t = decide(task('recording'), cmd('Stop'), T0 + 5000, config).record;
    t = decide(t, { kind: 'event', event: { ...ev('stopped', { recorded: true }), at: T0 + 5200 } }, T0 + 5200, config).record;
    assert.equal(t.Status, 'transcode');
    assert.equal(t.StopTime, T0 + 5200);
    t = decide(t, { kind: 'event', event: ev('uploading', {}, 4) }, T0 + 5400, config).record;
    assert.equal(t.Status, 'upload');
    t = decide(t, { kind: 'event', event: ev('finished', { videos: [VIDEO] }, 5) }, T0 + 5600, config).record;
    assert.equal(t.Status, 'finished');
    assert.equal(t.FinishTime, T0 + 5600);
    assert.deepEqual(t.Result, { Videos: [VIDEO] });
    assert.equal(nextAlarm(t), null);
  });

  it('stopped without anything recorded ends with NothingRecorded', () => {
    const canceled = decide(task('normal'), cmd('Stop'), T0, config).record;
    const d = decide(canceled, { kind: 'event', event: ev('stopped', { recorded: false }) }, T0 + 100, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'NothingRecorded');
    assert.deepEqual(d.record.Result.Videos, []);
  });

  it('a page that fails to load ends finished with PageLoadFailed', () => {
    const d = decide(task('normal'), { kind: 'event', event: ev('failed', { code: 'PageLoadFailed', message: 'HTTP 404', videos: [] }) }, T0, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'PageLoadFailed');
    assert.equal(d.record.Result.ErrorMessage, 'HTTP 404');
    assert.equal(d.record.StopTime, undefined, 'it never recorded, so it never stopped recording');
  });

  it('a failure keeps the videos that were produced', () => {
    const d = decide(task('recording'), { kind: 'event', event: ev('failed', { code: 'RecordFailed', message: 'browser exited', videos: [VIDEO] }) }, T0 + 9000, config);
    assert.equal(d.record.Status, 'finished');
    assert.deepEqual(d.record.Result, { ErrorCode: 'RecordFailed', ErrorMessage: 'browser exited', Videos: [VIDEO] });
  });

  it('progress shows the live playlist while recording, and the final video replaces it', () => {
    const live = { ...VIDEO, Filename: 'index.m3u8', FileDuration: 4 };
    const t = decide(task('recording'), { kind: 'event', event: ev('progress', { videos: [live] }) }, T0, config).record;
    assert.equal(t.Status, 'recording');
    assert.deepEqual(t.Result.Videos, [live]);
    const done = decide({ ...t, Status: 'upload' }, { kind: 'event', event: ev('finished', { videos: [VIDEO] }, 4) }, T0, config).record;
    assert.deepEqual(done.Result.Videos, [VIDEO]);
  });

  it('progress says how far the recording got while it records or is paused; Describe shows it then, and not once it stopped', () => {
    const progress = { RecordedSeconds: 12.4, FileSize: 1_234_567, Fps: 30 };
    const t = decide(task('recording'), { kind: 'event', event: ev('progress', { videos: [], progress }) }, T0, config).record;
    assert.deepEqual(t.Progress, progress);
    assert.deepEqual(t.Result.Videos, [], 'an MP4 has nothing to watch yet');
    assert.deepEqual(toDescribe(t).Progress, progress);
    assert.deepEqual(toDescribe({ ...t, Status: 'paused' }).Progress, progress);
    const stopped = decide(t, cmd('Stop'), T0 + 1000, config).record;
    assert.equal(stopped.Status, 'canceled');
    assert.equal(toDescribe(stopped).Progress, undefined, 'not once it stopped');
    const late = decide(stopped, { kind: 'event', event: ev('progress', { videos: [], progress: { ...progress, RecordedSeconds: 13 } }, 4) }, T0 + 1500, config).record;
    assert.equal(late.lastSeq, 4, 'the event was applied');
    assert.deepEqual(late.Progress, progress, 'a late progress after Stop changes nothing');
  });

  it('the page calling window.stopRecord() stops the task like a Stop', () => {
    const d = decide(task('recording'), { kind: 'event', event: ev('stopRequested') }, T0 + 7000, config);
    assert.equal(d.record.Status, 'canceled');
    assert.equal(d.record.CancelTime, T0 + 7000);
    assert.deepEqual(
      d.effects.map((e) => e.type),
      ['commandRecorder'],
    );
  });

  // Whatever arrives, a task never moves back (recording ⇄ paused aside) and finished is final.
  const rank: Record<TaskStatus, number> = { normal: 0, recording: 1, paused: 1, canceled: 2, transcode: 3, upload: 4, callback: 5, finished: 6 };
  const events: RecorderEvent[] = [
    ev('accepted'),
    ev('recording', { width: 1280, height: 720 }),
    ev('paused'),
    ev('resumed'),
    ev('refreshed'),
    ev('stopRequested'),
    ev('stopped', { recorded: true }),
    ev('stopped', { recorded: false }),
    ev('uploading'),
    ev('finished', { videos: [VIDEO] }),
    ev('failed', { code: 'RecordFailed', message: 'x', videos: [] }),
    ev('warning', { message: 'w' }),
    ev('progress', { videos: [VIDEO] }),
  ];
  for (const status of TASK_STATUSES) {
    it(`every event when ${status}: never goes back, finished stays finished`, () => {
      for (const event of events) {
        const before = task(status);
        const d = decide(before, { kind: 'event', event }, T0 + 20_000, config);
        assert.ok(rank[d.record.Status] >= rank[status], `${event.type} took ${status} back to ${d.record.Status}`);
        if (status === 'finished') assert.equal(d.record.Status, 'finished');
        assert.equal(d.record.lastSeq, event.seq);
        assert.deepEqual(d.reply, { ok: true });
      }
    });
  }
});

describe('TaskActor: alarms', () => {
  it('MaxDurationLimit reached while recording stops the recording', () => {
    const t = task('recording', { deadlineAt: T0 + 4000 });
    assert.equal(decide(t, { kind: 'alarm' }, T0 + 3999, config).record, t, 'not due yet');
    const d = decide(t, { kind: 'alarm' }, T0 + 4000, config);
    assert.equal(d.record.Status, 'canceled');
    assert.deepEqual(
      d.effects.map((e) => e.type === 'commandRecorder' && e.command.type),
      ['stop'],
    );
  });

  it('MaxDurationLimit also bounds a task that never started (ManualStart never called)', () => {
    const d = decide(task('normal', { deadlineAt: T0 + 60_000 }), { kind: 'alarm' }, T0 + 60_000, config);
    assert.equal(d.record.Status, 'canceled');
  });

  it('no alarm once the recording is closing', () => {
    assert.equal(nextAlarm(task('transcode')), null);
    assert.equal(nextAlarm(task('finished')), null);
  });
});

describe('TaskActor: callback', () => {
  const URL = 'http://client.test/hook';
  const finishing = () => decide(task('upload', {}, URL), { kind: 'event', event: ev('finished', { videos: [VIDEO] }) }, T0 + 10_000, config);

  it('a task with a CallbackURL goes through callback and delivers the Describe answer', () => {
    const d = finishing();
    assert.equal(d.record.Status, 'callback');
    const [effect] = d.effects;
    assert.equal(effect?.type, 'deliverCallback');
    if (effect?.type !== 'deliverCallback') return;
    assert.equal(effect.url, URL);
    assert.equal(effect.tryNumber, 1);
    assert.equal(effect.body.Status, 'finished');
    assert.deepEqual(effect.body.Result.Videos, [VIDEO]);
    assert.equal(effect.body.FinishTime, Math.floor((T0 + 10_000) / 1000));
    assert.equal('RequestID' in effect.body, false);
  });

  it('success finishes the task, with the FinishTime the callback carried', () => {
    const d = decide(finishing().record, { kind: 'callbackResult', tryNumber: 1, ok: true }, T0 + 12_100, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, undefined);
    assert.equal(d.record.FinishTime, T0 + 10_000, 'Describe and the callback agree');
  });

  it('failures retry with growing delays, then end finished with CallbackFailed and the videos', () => {
    let t = finishing().record;
    let now = T0 + 10_000;
    const delays: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const after = decide(t, { kind: 'callbackResult', tryNumber: i, ok: false, error: `ECONNREFUSED ${i}` }, now, config).record;
      if (i === 5) {
        t = after;
        break;
      }
      assert.equal(after.Status, 'callback');
      delays.push(after.callback!.nextAt! - now);
      now = after.callback!.nextAt!;
      const retry = decide(after, { kind: 'alarm' }, now, config);
      assert.equal(retry.effects[0]?.type === 'deliverCallback' && retry.effects[0].tryNumber, i + 1);
      t = retry.record;
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000]);
    assert.ok(delays.reduce((a, b) => a + b) >= 120_000, 'tries span at least two minutes');
    assert.equal(t.Status, 'finished');
    assert.equal(t.Result.ErrorCode, 'CallbackFailed');
    assert.equal(t.Result.ErrorMessage, 'Callback failed even all tries. last error message:ECONNREFUSED 5');
    assert.deepEqual(t.Result.Videos, [VIDEO]);
  });

  it('a result for an older try is ignored', () => {
    const t = { ...finishing().record, callback: { tries: 2, nextAt: T0 + 99_000 } };
    assert.equal(decide(t, { kind: 'callbackResult', tryNumber: 1, ok: true }, T0, config).record, t);
  });

  it('a try whose result never comes back is retried by the watchdog alarm', () => {
    const t = finishing().record;
    const due = t.callback!.nextAt!;
    assert.equal(due, T0 + 10_000 + 15_000);
    const d = decide(t, { kind: 'alarm' }, due, config);
    assert.equal(d.effects[0]?.type === 'deliverCallback' && d.effects[0].tryNumber, 2);
  });
});

describe('TaskActor: a recorder that stops answering', () => {
  const lost = (recorderId = 'rec-1') => ({ kind: 'recorderLost', recorderId }) as const;
  const stopOld = { type: 'commandRecorder', recorderId: 'rec-1', command: { TaskID: 't1', attempt: 1, type: 'stop' } };

  for (const status of ['recording', 'paused', 'canceled', 'transcode', 'upload'] as const) {
    it(`when ${status}: a new attempt finishes the task from the intermediate file, ending RecorderLost`, () => {
      const before = task(status);
      const d = decide(before, lost(), T0 + 30_000, config);
      assert.equal(d.record.Status, 'transcode');
      assert.equal(d.record.attempt, 2);
      assert.equal(d.record.recorderId, null);
      assert.equal(d.record.lastSeq, 0, 'the new attempt numbers its events afresh');
      assert.equal(d.record.Result.ErrorCode, 'RecorderLost');
      assert.match(d.record.Result.ErrorMessage!, /rec-1 stopped answering/);
      assert.equal(d.record.CancelTime, before.CancelTime ?? T0 + 30_000);
      assert.equal(d.record.StopTime, before.StopTime ?? T0 + 30_000);
      assert.deepEqual(d.effects, [stopOld, { type: 'enqueueStart', job: { TaskID: 't1', attempt: 2, request: before.request, mode: 'recover' } }]);
      // The recovering recorder's events carry the new attempt and take the task to finished.
      let t = decide(d.record, { kind: 'event', event: { ...ev('accepted', {}, 1), attempt: 2, recorderId: 'rec-2' } }, T0 + 31_000, config).record;
      assert.equal(t.recorderId, 'rec-2');
      assert.equal(t.Status, 'transcode');
      t = decide(t, { kind: 'event', event: { ...ev('uploading', {}, 2), attempt: 2, recorderId: 'rec-2' } }, T0 + 32_000, config).record;
      t = decide(t, { kind: 'event', event: { ...ev('finished', { videos: [VIDEO] }, 3), attempt: 2, recorderId: 'rec-2' } }, T0 + 33_000, config).record;
      assert.equal(t.Status, 'finished');
      assert.equal(t.Result.ErrorCode, 'RecorderLost');
      assert.deepEqual(t.Result.Videos, [VIDEO]);
      // Late events of the lost attempt change nothing.
      assert.equal(decide(t, { kind: 'event', event: ev('stopped', { recorded: true }, 99) }, T0, config).record, t);
    });
  }

  it('before anything was recorded: the task is recorded again from the start', () => {
    const before = task('normal');
    const d = decide(before, lost(), T0 + 5000, config);
    assert.equal(d.record.Status, 'normal');
    assert.equal(d.record.attempt, 2);
    assert.equal(d.record.recorderId, null);
    assert.equal(d.record.Result.ErrorCode, undefined);
    assert.equal(nextAlarm(d.record), T0 + 5000 + 600_000, 'waiting for a recorder again, for at most the queue timeout');
    assert.deepEqual(d.effects, [stopOld, { type: 'enqueueStart', job: { TaskID: 't1', attempt: 2, request: before.request, mode: 'record', notAfter: T0 + 5000 + 600_000 } }]);
  });

  it('news of another recorder, or of a finished task, changes nothing', () => {
    for (const t of [task('recording'), task('finished'), task('callback')]) {
      const other = decide(t, lost('rec-9'), T0, config);
      assert.equal(other.record, t);
      assert.deepEqual(other.effects, []);
    }
    assert.equal(decide(task('finished'), lost(), T0, config).record.Status, 'finished');
    assert.equal(heldBy(task('callback')), null);
    assert.equal(heldBy(task('recording')), 'rec-1');
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts, keeping what it has`, () => {
    const d = decide(task('transcode', { attempt: MAX_ATTEMPTS, Result: { Videos: [VIDEO] } }), lost(), T0, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'RecorderLost');
    assert.match(d.record.Result.ErrorMessage!, /given up after 5 attempts/);
    assert.deepEqual(d.record.Result.Videos, [VIDEO]);
  });
});

describe('TaskActor: delivery rules of recorder events', () => {
  const evt = (event: RecorderEvent, late = false) => ({ kind: 'event', event, ...(late ? { late } : {}) }) as const;

  it('an event ahead of the next expected one is handed back unapplied; once the gap fills, both apply in order', () => {
    const t = task('normal', { recorderId: 'rec-1', lastSeq: 1 });
    const early = decide(t, evt(ev('stopRequested', {}, 3)), T0, config);
    assert.equal(early.record, t, 'nothing applied');
    assert.equal(early.reply.ok, false);
    assert.equal(!early.reply.ok && early.reply.code, 'EarlyEvent');
    assert.deepEqual(early.effects, []);
    const first = decide(t, evt({ ...ev('recording', { width: 1280, height: 720 }, 2), at: T0 + 100 }), T0, config).record;
    assert.equal(first.Status, 'recording');
    const then = decide(first, evt(ev('stopRequested', {}, 3)), T0 + 200, config).record;
    assert.equal(then.Status, 'canceled', 'the recording began before it was stopped, as the recorder saw it');
    assert.equal(then.StartTime, T0 + 100);
  });

  it('an event that waited for a gap that never filled is applied when delivered late', () => {
    const t = task('recording', { lastSeq: 4 });
    const d = decide(t, evt(ev('stopRequested', {}, 7), true), T0 + 50, config);
    assert.deepEqual(d.reply, { ok: true });
    assert.equal(d.record.Status, 'canceled');
    assert.equal(d.record.lastSeq, 7);
  });

  it('a second recorder that took the same job is told to let go; its other events change nothing', () => {
    const t = task('recording'); // held by rec-1
    const d = decide(t, evt(ev('accepted', { recorderId: 'rec-2' }, 1)), T0, config);
    assert.equal(d.record, t);
    assert.deepEqual(d.effects, [{ type: 'commandRecorder', recorderId: 'rec-2', command: { TaskID: 't1', attempt: 1, type: 'stop' } }]);
    for (const e of [ev('failed', { recorderId: 'rec-2', code: 'RecordFailed', message: 'x', videos: [] }, 3), ev('stopRequested', { recorderId: 'rec-2' }, 3)]) {
      const other = decide(t, evt(e), T0, config);
      assert.equal(other.record, t);
      assert.deepEqual(other.effects, []);
    }
  });
});

describe('TaskActor: the queue timeout', () => {
  const queued = () => createTask('t1', normalizeStart({ RecordURL: 'http://page.test/' }), T0, { ...config, queueTimeoutMs: 60_000 }).record;

  it('a task no recorder took within QUEUE_TIMEOUT_S ends finished with NoRecorder', () => {
    const t = queued();
    assert.equal(decide(t, { kind: 'alarm' }, T0 + 59_999, config).record, t, 'not due yet');
    const d = decide(t, { kind: 'alarm' }, T0 + 60_000, { ...config, queueTimeoutMs: 60_000 });
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'NoRecorder');
    assert.match(d.record.Result.ErrorMessage!, /within 60 s \(QUEUE_TIMEOUT_S\)/);
    assert.deepEqual(indexesOf(d.record), { alarmAt: null, watch: null, group: null, listed: { at: d.record.CreateTime, label: 'finished' } }, 'still listed, as finished');
  });

  it('with a CallbackURL the client is told, like any other end', () => {
    const t = { ...queued(), request: { ...queued().request, CallbackURL: 'http://hooks.test/' } };
    const d = decide(t, { kind: 'alarm' }, T0 + 60_000, config);
    assert.equal(d.record.Status, 'callback');
    assert.deepEqual(
      d.effects.map((e) => e.type),
      ['deliverCallback'],
    );
  });

  it('once a recorder took the job, the queue timeout no longer applies: MaxDurationLimit does', () => {
    const taken = decide(queued(), { kind: 'event', event: { ...ev('accepted', {}, 1), at: T0 + 1000 } }, T0 + 1000, config).record;
    assert.equal(taken.queueDeadlineAt, null);
    assert.equal(indexesOf(taken).alarmAt, T0 + 1000 + (taken.request.MaxDurationLimit + taken.request.ReadyTimeout) * 1000 + START_ALLOWANCE_MS);
    assert.equal(indexesOf(taken).watch, 'rec-1');
    assert.equal(indexesOf(taken).group, 'normal', 'counted by its status while unfinished');
    assert.equal(decide(taken, { kind: 'alarm' }, T0 + 60_000, config).record, taken);
  });

  it('a job that a recorder takes after the task gave up is told to stop', () => {
    const ended = decide(queued(), { kind: 'alarm' }, T0 + 60_000, config).record;
    const d = decide(ended, { kind: 'event', event: ev('accepted', {}, 1) }, T0 + 61_000, config);
    assert.equal(d.record.Status, 'finished');
    assert.equal(d.record.Result.ErrorCode, 'NoRecorder');
    assert.deepEqual(d.effects, [{ type: 'commandRecorder', recorderId: 'rec-1', command: { TaskID: 't1', attempt: 1, type: 'stop' } }]);
  });
});
