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

  get(taskId: string): Promise<TaskRecord | null> {
    return this.read(taskId, TaskRecord);
  }

  /** What Describe needs: the stored request, most of a record, is not validated on every poll. */
  getView(taskId: string): Promise<TaskViewSource | null> {
    return this.read(taskId, TaskViewSource);
  }

  private async read<T>(taskId: string, schema: { parse(v: unknown): T }): Promise<T | null> {
    const raw = await this.redis.get(keys.task(taskId));
    return raw === null ? null : schema.parse(JSON.parse(raw));
  }

  async write(record: TaskRecord, token: number, mode: 'create' | 'update'): Promise<WriteResult> {
    const id = record.TaskID;
    const ttl = record.Status === 'finished' ? this.finishedTtlMs : 0;
    const r = await this.redis.wrFencedWrite(keys.task(id), keys.lease(id), keys.fence(id), token, JSON.stringify(record), ttl, mode);
    return r === 1 ? 'written' : r === 0 ? 'stale' : r === -1 ? 'exists' : 'missing';
  }
}
