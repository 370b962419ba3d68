// What crosses between the runtime and the recorders (over Redis streams): Start jobs, commands to
// the recorder that holds a task, and the events a recorder reports back.
import { z } from 'zod';
import { StoredRequest } from './api.js';
import { RecordingProgress, Video } from './task.js';

export const StartJob = z.object({
  TaskID: z.string(),
  attempt: z.number().int().positive(),
  request: StoredRequest,
  /** record: open the page and record; recover: make the output from what an earlier attempt recorded. */
  mode: z.enum(['record', 'recover']).default('record'),
  /**
   * A recorder that reads the job after this moment (epoch ms) drops it unstarted: the task has given
   * up waiting (QUEUE_TIMEOUT_S) and ended NoRecorder. Absent: the job never expires (recovery).
   */
  notAfter: z.number().int().positive().optional(),
});
export type StartJob = z.output<typeof StartJob>;

export const RECORDER_COMMANDS = ['pause', 'resume', 'refresh', 'stop'] as const;
export const RecorderCommand = z.object({
  TaskID: z.string(),
  attempt: z.number().int().positive(),
  type: z.enum(RECORDER_COMMANDS),
});
export type RecorderCommand = z.infer<typeof RecorderCommand>;

const base = {
  TaskID: z.string(),
  attempt: z.number().int().positive(),
  recorderId: z.string(),
  /** Per attempt, starting at 1 and rising by one with each event the recorder sends. */
  seq: z.number().int().positive(),
  /** When it happened, epoch ms, by the recorder's clock. */
  at: z.number().int().nonnegative(),
};

export const RecorderEvent = z.discriminatedUnion('type', [
  /** The recorder took the Start job; commands for the task go to its stream from now on. */
  z.object({ ...base, type: z.literal('accepted') }),
  /** The first frame was captured: the recording has begun. */
  z.object({ ...base, type: z.literal('recording'), width: z.number().int(), height: z.number().int() }),
  z.object({ ...base, type: z.literal('paused') }),
  z.object({ ...base, type: z.literal('resumed') }),
  z.object({ ...base, type: z.literal('refreshed') }),
  /** How far the recording has got, and what can be watched already (a live HLS playlist), as it grows. */
  z.object({ ...base, type: z.literal('progress'), videos: z.array(Video), progress: RecordingProgress.optional() }),
  /** The page called window.stopRecord(). */
  z.object({ ...base, type: z.literal('stopRequested') }),
  /** Capture has ended and the browser is closed; `recorded` tells whether anything was captured. */
  z.object({ ...base, type: z.literal('stopped'), recorded: z.boolean() }),
  /** The file is made and is being put into its storage target. */
  z.object({ ...base, type: z.literal('uploading') }),
  z.object({ ...base, type: z.literal('finished'), videos: z.array(Video) }),
  /** Something went wrong; `videos` holds whatever was still produced. */
  z.object({
    ...base,
    type: z.literal('failed'),
    code: z.string(),
    message: z.string(),
    videos: z.array(Video),
  }),
  /** Informational; does not change the task. */
  z.object({ ...base, type: z.literal('warning'), message: z.string() }),
]);
export type RecorderEvent = z.infer<typeof RecorderEvent>;
export type RecorderEventType = RecorderEvent['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as the recorder builds it, before the channel stamps identity, sequence and time. */
export type RecorderEventBody = DistributiveOmit<RecorderEvent, 'TaskID' | 'attempt' | 'recorderId' | 'seq' | 'at'>;

/**
 * What a recorder says of itself every couple of seconds. The runtime's recorder watch reads who is
 * alive; recorders read each other's to leave a job to a less loaded peer; the console shows them.
 */
export const RecorderHeartbeat = z.object({
  recorderId: z.string(),
  /** The service version the recorder runs (package.json). */
  version: z.string(),
  slots: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  /** Whether its admission would take one more Start job now. */
  accepting: z.boolean(),
  /** What one recording costs on its machine, in cores (measured there, or set). */
  recordingCores: z.number().nonnegative(),
  cores: z.number().nonnegative(),
  busyCores: z.number().nonnegative(),
  availableMemoryBytes: z.number().nonnegative(),
  at: z.number().int().nonnegative(),
});
export type RecorderHeartbeat = z.infer<typeof RecorderHeartbeat>;
