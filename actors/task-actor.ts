// The task's state machine (statuses of ../shared/API.md) as pure functions: given the stored task,
// a message and the time, decide the new task, the answer and the effects for the runtime to carry
// out. No I/O here; the runtime persists the record (fenced) and then performs the effects.
import type { StoredRequest, TaskCommand } from '../protocol/api.js';
import { TaskErrorCode } from '../protocol/errors.js';
import type { RecorderCommand, RecorderEvent, StartJob } from '../protocol/recorder.js';
import type { TaskMessage, TaskReply } from '../protocol/task-messages.js';
import { toDescribe, type DescribeView, type TaskRecord, type TaskStatus, type Video } from '../protocol/task.js';
import { type CallbackPolicy, DEFAULT_CALLBACK_POLICY, retryDelayMs } from './callback-policy.js';

export type ActorMessage = TaskMessage;

export type Effect =
  | { type: 'enqueueStart'; job: StartJob }
  | { type: 'commandRecorder'; recorderId: string; command: RecorderCommand }
  | { type: 'deliverCallback'; url: string; tryNumber: number; deliveryId: string; body: DescribeView };

export type Reply = TaskReply;

export type Decision = { record: TaskRecord; reply: Reply; effects: Effect[] };

export type ActorConfig = {
  callback: CallbackPolicy;
  /** How long a record job may wait for a recorder before the task ends NoRecorder (QUEUE_TIMEOUT_S). */
  queueTimeoutMs: number;
};
export const DEFAULT_QUEUE_TIMEOUT_MS = 600_000;
const DEFAULT_CONFIG: ActorConfig = { callback: DEFAULT_CALLBACK_POLICY, queueTimeoutMs: DEFAULT_QUEUE_TIMEOUT_MS };

const OK: Reply = { ok: true };
const LIVE: readonly TaskStatus[] = ['normal', 'recording', 'paused'];
const CLOSING: readonly TaskStatus[] = ['canceled', 'transcode', 'upload'];

export function createTask(taskId: string, request: StoredRequest, now: number, config: ActorConfig = DEFAULT_CONFIG): Decision {
  const queueDeadlineAt = now + config.queueTimeoutMs;
  const record: TaskRecord = {
    v: 1,
    TaskID: taskId,
    Status: 'normal',
    CreateTime: now,
    Result: { Videos: [] },
    request,
    attempt: 1,
    recorderId: null,
    lastSeq: 0,
    // No MaxDurationLimit while the job waits for a free recorder; it starts when a recorder takes
    // the job. The wait itself is bounded by QUEUE_TIMEOUT_S.
    deadlineAt: null,
    queueDeadlineAt,
    callback: null,
  };
  const job: StartJob = { TaskID: taskId, attempt: 1, request, mode: 'record', notAfter: queueDeadlineAt };
  return { record, reply: OK, effects: [{ type: 'enqueueStart', job }] };
}

export function decide(record: TaskRecord, msg: ActorMessage, now: number, config: ActorConfig = DEFAULT_CONFIG): Decision {
  switch (msg.kind) {
    case 'command':
      return onCommand(record, msg.command, now, config);
    case 'event':
      return onEvent(record, msg.event, msg.late ?? false, now, config);
    case 'alarm':
      return onAlarm(record, now, config);
    case 'recorderLost':
      return onRecorderLost(record, msg.recorderId, now, config);
    case 'callbackResult':
      return onCallbackResult(record, msg, now, config);
  }
}

/**
 * What the runtime indexes beside the task, written in the same fenced script as the task itself so
 * that no crash leaves them apart: when to wake the task next (its alarm), which recorder it
 * depends on right now (watched for heartbeats), and where ListTasks finds it (by creation time,
 * filtered by status).
 */
export function indexesOf(record: TaskRecord): { alarmAt: number | null; watch: string | null; group: string | null; listed: { at: number; label: string } } {
  // Counted by status while unfinished (the tasks-by-status gauge); a finished task expires.
  return {
    alarmAt: nextAlarm(record),
    watch: heldBy(record),
    group: record.Status === 'finished' ? null : record.Status,
    listed: { at: record.CreateTime, label: record.Status },
  };
}

function heldBy(record: TaskRecord): string | null {
  return record.Status === 'callback' || record.Status === 'finished' ? null : record.recorderId;
}

function nextAlarm(record: TaskRecord): number | null {
  if (LIVE.includes(record.Status)) {
    // Waiting in the queue: the queue timeout; taken by a recorder: MaxDurationLimit.
    return record.recorderId === null && record.Status === 'normal' ? (record.queueDeadlineAt ?? null) : record.deadlineAt;
  }
  if (record.Status === 'callback') return record.callback?.nextAt ?? null;
  return null;
}

// ---- commands -------------------------------------------------------------------------------

function onCommand(t: TaskRecord, command: TaskCommand, now: number, config: ActorConfig): Decision {
  switch (command) {
    case 'Stop':
      return LIVE.includes(t.Status) ? stop(t, now, config) : keep(t);
    case 'Pause':
      if (t.Status !== 'recording') return invalid(t, 'Pause', 'recording');
      return send({ ...t, Status: 'paused' }, 'pause');
    case 'Resume':
      if (t.Status !== 'paused') return invalid(t, 'Resume', 'paused');
      return send({ ...t, Status: 'recording' }, 'resume');
    case 'Refresh':
      if (!LIVE.includes(t.Status)) return invalid(t, 'Refresh', 'normal, recording or paused');
      // Before a recorder holds the task there is no page yet: nothing to reload.
      return t.recorderId ? send(t, 'refresh') : keep(t);
  }
}

/** Browser start (pool miss, sandbox) beyond the page's own ReadyTimeout, before the first frame. */
export const START_ALLOWANCE_MS = 30_000;

function beforeFirstFrameMs(request: StoredRequest): number {
  return (request.MaxDurationLimit + request.ReadyTimeout) * 1000 + START_ALLOWANCE_MS;
}

/** Stop asked (by the client, the page, or the MaxDurationLimit alarm). */
function stop(t: TaskRecord, now: number, config: ActorConfig): Decision {
  const canceled: TaskRecord = { ...t, Status: 'canceled', CancelTime: now, deadlineAt: null };
  if (t.recorderId) return send(canceled, 'stop');
  // No recorder has taken the job yet: nothing was recorded and nothing needs closing.
  return enterCallback({ ...canceled, StopTime: now }, now, config, {
    ErrorCode: TaskErrorCode.NothingRecorded,
    ErrorMessage: 'the task was stopped before anything was recorded',
  });
}

// ---- recorder events ------------------------------------------------------------------------

function onEvent(t: TaskRecord, e: RecorderEvent, late: boolean, now: number, config: ActorConfig): Decision {
  // A recorder that took a job of an earlier attempt (claimed again after its recorder was lost), or
  // a second recorder that took the same job (a job redelivered while its first reader still had
  // it), must let go; any other event of theirs changes nothing.
  const foreign = e.TaskID !== t.TaskID || e.attempt !== t.attempt || (t.recorderId !== null && e.recorderId !== t.recorderId);
  if (foreign) return e.type === 'accepted' && e.attempt <= t.attempt && e.recorderId !== t.recorderId ? letGo(t, e) : keep(t);
  // Repeated, or arriving after a later one: already applied.
  if (e.seq <= t.lastSeq) return keep(t);
  // Events of one recording are applied in the order they were sent. Hosts deliver them side by
  // side, so one can overtake another: an early one is handed back, to come again after the rest.
  if (e.seq > t.lastSeq + 1 && !late) {
    return { record: t, reply: { ok: false, code: 'EarlyEvent', message: `event ${e.seq} before ${t.lastSeq + 1}` }, effects: [] };
  }
  const r: TaskRecord = { ...t, lastSeq: e.seq };
  switch (e.type) {
    case 'accepted': {
      // Stop was asked (or the task ended, or gave up waiting) before any recorder took the job.
      // A recovery attempt is expected to arrive in transcode.
      if (!LIVE.includes(t.Status) && t.Status !== 'transcode') return letGo(r, e);
      // MaxDurationLimit is the length of the recording, counted from its first frame. Until then the
      // page's loading (ReadyTimeout) and the browser's start get their own allowance on top, so that a
      // short limit on a slow machine still records; a page that never starts recording (ManualStart
      // never called) is bounded by the same sum.
      return keep({
        ...r,
        recorderId: e.recorderId,
        queueDeadlineAt: null,
        deadlineAt: t.Status === 'normal' ? e.at + beforeFirstFrameMs(t.request) : r.deadlineAt,
      });
    }
    case 'recording':
      if (t.Status === 'normal') {
        return keep({ ...r, Status: 'recording', StartTime: e.at, deadlineAt: e.at + t.request.MaxDurationLimit * 1000 });
      }
      return keep(t.StartTime === undefined && CLOSING.includes(t.Status) ? { ...r, StartTime: e.at } : r);
    case 'stopRequested':
      return LIVE.includes(t.Status) ? stop(r, now, config) : keep(r);
    case 'stopped':
      if (!LIVE.includes(t.Status) && t.Status !== 'canceled') return keep(r);
      return onStopped({ ...r, StopTime: r.StopTime ?? e.at, deadlineAt: null }, e.recorded, now, config);
    case 'uploading':
      return t.Status === 'canceled' || t.Status === 'transcode' ? keep({ ...r, Status: 'upload' }) : keep(r);
    case 'finished':
      if (!LIVE.includes(t.Status) && !CLOSING.includes(t.Status)) return keep(r);
      return enterCallback(withVideos({ ...r, StopTime: r.StopTime ?? e.at }, e.videos), now, config, {});
    case 'failed':
      if (t.Status === 'callback' || t.Status === 'finished') return keep(r);
      return enterCallback(withVideos({ ...r, StopTime: r.StopTime ?? (r.StartTime !== undefined ? e.at : undefined) }, e.videos), now, config, { ErrorCode: e.code, ErrorMessage: e.message });
    case 'progress': {
      // How far it got, and what can be watched already (a live playlist), show in Describe while recording.
      if (!LIVE.includes(t.Status) && t.Status !== 'canceled') return keep(r);
      const videos = withVideos(r, e.videos);
      return keep(e.progress && LIVE.includes(t.Status) ? { ...videos, Progress: e.progress } : videos);
    }
    case 'warning':
      return keep({ ...r, Warnings: [...(r.Warnings ?? []), { Time: e.at, Message: e.message }].slice(-MAX_WARNINGS) });
    // The recorder holds the capture, so its word on paused or not is the last: a pause or resume the
    // page asked for (its own controls) arrives this way only, and one racing a command settles here.
    case 'paused':
      return keep(t.Status === 'recording' ? { ...r, Status: 'paused' } : r);
    case 'resumed':
      return keep(t.Status === 'paused' ? { ...r, Status: 'recording' } : r);
    case 'refreshed':
      return keep(r);
  }
}

function onStopped(t: TaskRecord, recorded: boolean, now: number, config: ActorConfig): Decision {
  if (recorded) return keep({ ...t, Status: 'transcode' });
  return enterCallback(t, now, config, {
    ErrorCode: TaskErrorCode.NothingRecorded,
    ErrorMessage: t.request.ManualStart ? 'the page never called window.startRecord(), so nothing was recorded' : 'the recording ended before the first frame was captured',
  });
}

function withVideos(t: TaskRecord, videos: Video[]): TaskRecord {
  return videos.length ? { ...t, Result: { ...t.Result, Videos: videos } } : t;
}

// ---- a recorder that went silent --------------------------------------------------------------

/** Attempts after which a task that keeps losing its recorders is given up. */
/** Describe keeps the newest warnings only. */
export const MAX_WARNINGS = 20;
export const MAX_ATTEMPTS = 5;

function onRecorderLost(t: TaskRecord, recorderId: string, now: number, config: ActorConfig): Decision {
  if (heldBy(t) !== recorderId) return keep(t); // already handled, or about another recorder
  const attempt = t.attempt + 1;
  const lost = `recorder ${recorderId} stopped answering`;
  // In case it is alive but cut off: it must not go on recording a task that moved on.
  const stopOld: Effect = { type: 'commandRecorder', recorderId, command: { TaskID: t.TaskID, attempt: t.attempt, type: 'stop' } };
  if (attempt > MAX_ATTEMPTS) {
    const d = enterCallback(t, now, config, { ErrorCode: TaskErrorCode.RecorderLost, ErrorMessage: `${lost}; given up after ${t.attempt} attempts` });
    return { ...d, effects: [stopOld, ...d.effects] };
  }
  const next: TaskRecord = { ...t, attempt, recorderId: null, lastSeq: 0 };
  if (t.Status === 'normal' && t.StartTime === undefined) {
    // Nothing was recorded yet: record again from the start, on whichever recorder is free.
    const queueDeadlineAt = now + config.queueTimeoutMs;
    return {
      record: { ...next, deadlineAt: null, queueDeadlineAt },
      reply: OK,
      effects: [stopOld, { type: 'enqueueStart', job: { TaskID: t.TaskID, attempt, request: t.request, mode: 'record', notAfter: queueDeadlineAt } }],
    };
  }
  // Something was recorded: have a live recorder finish the task from the intermediate file.
  const recovering: TaskRecord = {
    ...next,
    Status: 'transcode',
    CancelTime: t.CancelTime ?? now,
    StopTime: t.StopTime ?? now,
    deadlineAt: null,
    Result: {
      ...t.Result,
      ErrorCode: TaskErrorCode.RecorderLost,
      ErrorMessage: `${lost} during the recording; the video holds what was recorded until then`,
    },
  };
  return {
    record: recovering,
    reply: OK,
    effects: [stopOld, { type: 'enqueueStart', job: { TaskID: t.TaskID, attempt, request: t.request, mode: 'recover' } }],
  };
}

// ---- alarms and the callback ----------------------------------------------------------------

function onAlarm(t: TaskRecord, now: number, config: ActorConfig): Decision {
  if (t.Status === 'normal' && t.recorderId === null && t.queueDeadlineAt != null && t.queueDeadlineAt <= now) {
    // The job expires with it (notAfter): a recorder that reads it later drops it unstarted.
    const waited = Math.round(config.queueTimeoutMs / 1000);
    return enterCallback({ ...t, queueDeadlineAt: null, CancelTime: now, StopTime: now }, now, config, {
      ErrorCode: TaskErrorCode.NoRecorder,
      ErrorMessage: `no recorder took the task within ${waited} s (QUEUE_TIMEOUT_S): every recorder was busy or none was running`,
    });
  }
  if (LIVE.includes(t.Status) && t.deadlineAt !== null && t.deadlineAt <= now) return stop(t, now, config);
  if (t.Status === 'callback' && t.callback?.nextAt != null && t.callback.nextAt <= now) {
    if (t.callback.tries >= config.callback.maxTries) return callbackExhausted(t, now);
    return tryCallback(t, now, config);
  }
  return keep(t);
}

function enterCallback(t: TaskRecord, now: number, config: ActorConfig, error: { ErrorCode?: string; ErrorMessage?: string }): Decision {
  const r: TaskRecord = { ...t, deadlineAt: null, Result: { ...t.Result, ...error } };
  if (!r.request.CallbackURL) return keep(finish(r, now));
  return tryCallback({ ...r, Status: 'callback', callback: { tries: 0, nextAt: null } }, now, config);
}

function tryCallback(t: TaskRecord, now: number, config: ActorConfig): Decision {
  const tries = (t.callback?.tries ?? 0) + 1;
  // nextAt doubles as a watchdog: if the try's result never comes back (host lost), the alarm retries.
  const r: TaskRecord = {
    ...t,
    callback: { ...t.callback, tries, tryAt: now, nextAt: now + config.callback.timeoutMs + config.callback.watchdogSlackMs },
  };
  const body = toDescribe(finish(r, now));
  return {
    record: r,
    reply: OK,
    effects: [{ type: 'deliverCallback', url: t.request.CallbackURL!, tryNumber: tries, deliveryId: `${t.TaskID}.finished`, body }],
  };
}

function onCallbackResult(t: TaskRecord, msg: Extract<ActorMessage, { kind: 'callbackResult' }>, now: number, config: ActorConfig): Decision {
  if (t.Status !== 'callback' || !t.callback || msg.tryNumber !== t.callback.tries) return keep(t);
  if (msg.ok) return keep(finish(t, t.callback.tryAt ?? now));
  const failed: TaskRecord = { ...t, callback: { ...t.callback, lastError: msg.error ?? 'unknown error' } };
  if (t.callback.tries >= config.callback.maxTries) return callbackExhausted(failed, now);
  const nextAt = now + retryDelayMs(config.callback, t.callback.tries);
  return keep({ ...failed, callback: { ...failed.callback!, nextAt } });
}

function callbackExhausted(t: TaskRecord, now: number): Decision {
  return keep(
    finish(
      {
        ...t,
        Result: {
          ...t.Result,
          ErrorCode: TaskErrorCode.CallbackFailed,
          ErrorMessage: `Callback failed even all tries. last error message:${t.callback?.lastError ?? 'no answer'}`,
        },
      },
      now,
    ),
  );
}

function finish(t: TaskRecord, now: number): TaskRecord {
  return {
    ...t,
    Status: 'finished',
    FinishTime: now,
    deadlineAt: null,
    callback: t.callback ? { ...t.callback, nextAt: null } : null,
  };
}

// ---- small helpers --------------------------------------------------------------------------

function keep(t: TaskRecord): Decision {
  return { record: t, reply: OK, effects: [] };
}

/** Tells a recorder that holds a job it should not to stop it; the task is left as it is. */
function letGo(t: TaskRecord, e: RecorderEvent): Decision {
  return { record: t, reply: OK, effects: [{ type: 'commandRecorder', recorderId: e.recorderId, command: { TaskID: t.TaskID, attempt: e.attempt, type: 'stop' } }] };
}

function send(t: TaskRecord, type: RecorderCommand['type']): Decision {
  const effects: Effect[] = t.recorderId ? [{ type: 'commandRecorder', recorderId: t.recorderId, command: { TaskID: t.TaskID, attempt: t.attempt, type } }] : [];
  return { record: t, reply: OK, effects };
}

function invalid(t: TaskRecord, command: TaskCommand, needs: string): Decision {
  return {
    record: t,
    reply: { ok: false, code: 'InvalidState', message: `${command} needs a task that is ${needs}; this task is ${t.Status}` },
    effects: [],
  };
}
