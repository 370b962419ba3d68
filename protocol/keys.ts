// Redis key names shared by the runtime and the recorders. Everything about one task carries the
// hash tag {<TaskID>} so it lives in one Redis Cluster slot; shared queues are tagged by region.
export const keys = {
  task: (taskId: string) => `wr:task:{${taskId}}`,
  lease: (taskId: string) => `wr:lease:{${taskId}}`,
  fence: (taskId: string) => `wr:fence:{${taskId}}`,
  recordId: (recordId: string) => `wr:rid:{${recordId}}`,
  alarms: (region: string) => `wr:{${region}}:alarms`,
  /** Start jobs, read by recorders through the consumer group below. */
  jobs: (region: string) => `wr:{${region}}:jobs`,
  /** Recorder events, read by runtime hosts through their consumer group. */
  events: (region: string) => `wr:{${region}}:events`,
  /** Commands for one recorder (pause, resume, refresh, stop of the tasks it holds). */
  recorderCommands: (recorderId: string) => `wr:rec:{${recorderId}}:cmds`,
  recorderHeartbeat: (region: string, recorderId: string) => `wr:{${region}}:recorder:${recorderId}`,
  /** Which recorder each unfinished task depends on (TaskID → recorder id), for the heartbeat watch. */
  assignments: (region: string) => `wr:{${region}}:assignments`,
} as const;

export const JOBS_GROUP = 'recorders';
export const EVENTS_GROUP = 'runtime';

/** Each stream entry carries one JSON document in this field. */
export const PAYLOAD_FIELD = 'json';
