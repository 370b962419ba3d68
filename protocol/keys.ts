// Redis key names shared by the runtime and the recorders. Nothing spans slots on a Redis Cluster:
// - everything about one task, and the indexes of its shard, carry the shard's hash tag {t<shard>};
// - the region's queues and registries carry the region's tag {<region>};
// - one recorder's command stream carries its own id.
import { shardOf } from './shard.js';

const t = (shard: number) => `{t${shard}}`;
const ofTask = (taskId: string) => t(shardOf(taskId));

export const keys = {
  task: (taskId: string) => `wr:${ofTask(taskId)}:task:${taskId}`,
  lease: (taskId: string) => `wr:${ofTask(taskId)}:lease:${taskId}`,
  fence: (taskId: string) => `wr:${ofTask(taskId)}:fence:${taskId}`,
  recordId: (recordId: string) => `wr:rid:{${recordId}}`,
  /** The shard's alarms: a sorted set of TaskIDs by due time (epoch ms). */
  alarms: (shard: number) => `wr:${t(shard)}:alarms`,
  /** The shard's unfinished actors (a set of ids): what MAX_TASKS counts. */
  live: (shard: number) => `wr:${t(shard)}:live`,
  /** The shard's groups (a task's status while unfinished): actor id → group, and group → how many. */
  groups: (shard: number) => `wr:${t(shard)}:groups`,
  groupCounts: (shard: number) => `wr:${t(shard)}:groups:n`,
  /** The shard's newest actors (a sorted set by creation time, bounded) and each one's label (its status): what ListTasks reads. */
  recent: (shard: number) => `wr:${t(shard)}:recent`,
  recentLabels: (shard: number) => `wr:${t(shard)}:recent:labels`,
  /** The shard's recorder index: TaskID → the recorder the unfinished task depends on. */
  watches: (shard: number) => `wr:${t(shard)}:watches`,
  /** Start jobs, read by recorders through the consumer group JOBS_GROUP. */
  jobs: (region: string) => `wr:{${region}}:jobs`,
  /** Recorder events, read by runtime hosts through the consumer group EVENTS_GROUP. */
  events: (region: string) => `wr:{${region}}:events`,
  /** Commands for one recorder (pause, resume, refresh, stop of the tasks it holds). */
  recorderCommands: (recorderId: string) => `wr:rec:{${recorderId}}:cmds`,
  /** Live recorders: a sorted set by expiry of their last heartbeat, and the heartbeats themselves. */
  recorders: (region: string) => `wr:{${region}}:recorders`,
  recorderBeats: (region: string) => `wr:{${region}}:recorders:beats`,
  /** Live runtime hosts, the same way. */
  hosts: (region: string) => `wr:{${region}}:hosts`,
  hostBeats: (region: string) => `wr:{${region}}:hosts:beats`,
} as const;

export const JOBS_GROUP = 'recorders';
export const EVENTS_GROUP = 'runtime';

/** Each stream entry carries one JSON document in this field. */
export const PAYLOAD_FIELD = 'json';
