// A task as stored (TaskRecord) and as answered by Describe (DescribeView).
import { z } from 'zod';
import { StoredRequest } from './api.js';

export const TASK_STATUSES = ['normal', 'recording', 'paused', 'canceled', 'transcode', 'upload', 'callback', 'finished'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** Stretches of 5 s or more, in seconds from the video's start: all counted, the first 100 listed. */
export const QualityStretches = z.object({
  Count: z.number().int().nonnegative(),
  TotalSeconds: z.number().nonnegative(),
  List: z.array(z.object({ Start: z.number().nonnegative(), Duration: z.number().nonnegative() })),
});
export type QualityStretches = z.infer<typeof QualityStretches>;

/**
 * How good a video is, measured while it was recorded (an addition to the original product's answer).
 * A figure that could not be measured is null.
 */
export const VideoQuality = z.object({
  /** Frames per second in the file (its frames over its duration). */
  Fps: z.number().nonnegative().nullable(),
  /** The longest time between two frames, in seconds. */
  LongestFrameGap: z.number().nonnegative().nullable(),
  /** Where the picture did not change for 5 s or more. */
  Frozen: QualityStretches.nullable(),
  /** Where the sound was silent (under -60 dB) for 5 s or more; the whole video when the page made no sound. */
  Silent: QualityStretches.nullable(),
  /** Times the page crashed while recording (each reloaded, but for the last when it kept crashing). */
  Crashes: z.number().int().nonnegative(),
  /** Times the page was reloaded while recording (Refresh, window.refreshPage(), after a crash). */
  Reloads: z.number().int().nonnegative(),
  /** What was told while recording (as in the task's Warnings), the first 20. */
  Warnings: z.array(z.string()),
});
export type VideoQuality = z.infer<typeof VideoQuality>;

export const Video = z.object({
  Filename: z.string(),
  FileSize: z.number().int().nonnegative(),
  FileDuration: z.number().nonnegative(),
  FileId: z.string().optional(),
  FileURL: z.string(),
  /** Only on a finished video made by the recorder that recorded it: an addition. */
  Quality: VideoQuality.optional(),
});
export type Video = z.infer<typeof Video>;

export const TaskResult = z.object({
  ErrorCode: z.string().optional(),
  ErrorMessage: z.string().optional(),
  Videos: z.array(Video),
});
export type TaskResult = z.infer<typeof TaskResult>;

const ms = z.number().int().nonnegative();

/** How far a recording has got, as its recorder last said (every two seconds while it records). */
export const RecordingProgress = z.object({
  /** Seconds recorded, paused stretches not counted. */
  RecordedSeconds: z.number().nonnegative(),
  /** Bytes of the recording so far (its intermediate file). */
  FileSize: z.number().int().nonnegative(),
  /** Frames per second captured over the last 10 s; null until 10 s were recorded. */
  Fps: z.number().nonnegative().nullable(),
});
export type RecordingProgress = z.infer<typeof RecordingProgress>;

export const CallbackProgress = z.object({
  tries: z.number().int().nonnegative(),
  nextAt: ms.nullable(), // when the next try is due (or, while a try is under way, its watchdog)
  /** When the latest try was sent: its body says the task finished then, so success keeps that time. */
  tryAt: ms.optional(),
  lastError: z.string().optional(),
});

export const TaskRecord = z.object({
  v: z.literal(1),
  TaskID: z.string(),
  Status: TaskStatus,
  // Times in epoch milliseconds; Describe answers Unix seconds.
  CreateTime: ms,
  StartTime: ms.optional(),
  CancelTime: ms.optional(),
  StopTime: ms.optional(),
  FinishTime: ms.optional(),
  Result: TaskResult,
  request: StoredRequest,
  /** Which recording attempt is current; events of other attempts are stale. */
  attempt: z.number().int().positive(),
  recorderId: z.string().nullable(),
  /** Highest recorder event sequence applied for this attempt (duplicates and late events are dropped). */
  lastSeq: z.number().int().nonnegative(),
  /** MaxDurationLimit alarm: the moment the recording must stop. */
  deadlineAt: ms.nullable(),
  /** While a record job waits for a recorder: when the task gives up waiting (QUEUE_TIMEOUT_S). */
  queueDeadlineAt: ms.nullable().optional(),
  callback: CallbackProgress.nullable(),
  /** What went wrong without ending the task (a low frame rate, a page crash), newest last. */
  Warnings: z.array(z.object({ Time: ms, Message: z.string() })).optional(),
  Progress: RecordingProgress.optional(),
});
export type TaskRecord = z.infer<typeof TaskRecord>;

/** The part of a stored task that Describe answers from: its stored request is left unparsed. */
export const TaskViewSource = TaskRecord.pick({
  TaskID: true,
  Status: true,
  CreateTime: true,
  StartTime: true,
  CancelTime: true,
  StopTime: true,
  FinishTime: true,
  Result: true,
  Warnings: true,
  Progress: true,
});
export type TaskViewSource = z.infer<typeof TaskViewSource>;

const unixSeconds = z.number().int().nonnegative();

/** Describe's answer (and the callback's body): times in Unix seconds, each only once it happened. */
export const DescribeView = z.object({
  TaskID: z.string(),
  Status: TaskStatus,
  CreateTime: unixSeconds,
  StartTime: unixSeconds.optional(),
  CancelTime: unixSeconds.optional(),
  StopTime: unixSeconds.optional(),
  FinishTime: unixSeconds.optional(),
  /** Only when there were any: an addition to the original product's answer. */
  Warnings: z.array(z.object({ Time: unixSeconds, Message: z.string() })).optional(),
  /** While it records or is paused: an addition to the original product's answer. */
  Progress: RecordingProgress.optional(),
  Result: TaskResult,
});
export type DescribeView = z.infer<typeof DescribeView>;

const seconds = (t: number | undefined) => (t === undefined ? undefined : Math.floor(t / 1000));

export function toDescribe(t: TaskViewSource): DescribeView {
  const result = {
    ...(t.Result.ErrorCode ? { ErrorCode: t.Result.ErrorCode } : {}),
    ...(t.Result.ErrorMessage ? { ErrorMessage: t.Result.ErrorMessage } : {}),
    Videos: t.Result.Videos,
  };
  const view: DescribeView = { TaskID: t.TaskID, Status: t.Status, CreateTime: seconds(t.CreateTime)!, Result: result };
  if (t.StartTime !== undefined) view.StartTime = seconds(t.StartTime);
  if (t.CancelTime !== undefined) view.CancelTime = seconds(t.CancelTime);
  if (t.StopTime !== undefined) view.StopTime = seconds(t.StopTime);
  if (t.FinishTime !== undefined) view.FinishTime = seconds(t.FinishTime);
  if (t.Warnings?.length) view.Warnings = t.Warnings.map((w) => ({ Time: seconds(w.Time)!, Message: w.Message }));
  if (t.Progress && (t.Status === 'recording' || t.Status === 'paused')) view.Progress = t.Progress;
  // Result last, as in the original product's answers.
  const { Result, ...rest } = view;
  return { ...rest, Result };
}
