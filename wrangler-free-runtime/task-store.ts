// Task state in Redis: read by anyone, written only through the fenced script by the lease holder.
import { keys } from '../protocol/keys.js';
import { TaskRecord, TaskViewSource } from '../protocol/task.js';
import type { ScriptedRedis } from './redis/scripts.js';

export type WriteResult = 'written' | 'stale' | 'exists' | 'missing';

export class TaskStore {
  constructor(
    private readonly redis: ScriptedRedis,
    /** How long a finished task stays readable. */
    private readonly finishedTtlMs: number,
  ) {}

  async get(taskId: string): Promise<TaskRecord | null> {
    const raw = await this.redis.get(keys.task(taskId));
    if (raw === null) return null;
    return TaskRecord.parse(JSON.parse(raw));
  }

  /** What Describe needs: the stored request, most of a record, is not validated on every poll. */
  async getView(taskId: string): Promise<TaskViewSource | null> {
    const raw = await this.redis.get(keys.task(taskId));
    if (raw === null) return null;
    return TaskViewSource.parse(JSON.parse(raw));
  }

  async write(record: TaskRecord, token: number, mode: 'create' | 'update'): Promise<WriteResult> {
    const id = record.TaskID;
    const ttl = record.Status === 'finished' ? this.finishedTtlMs : 0;
    const r = await this.redis.wrFencedWrite(keys.task(id), keys.lease(id), keys.fence(id), token, JSON.stringify(record), ttl, mode);
    return r === 1 ? 'written' : r === 0 ? 'stale' : r === -1 ? 'exists' : 'missing';
  }
}
