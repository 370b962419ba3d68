// Task state in Redis: read by anyone, written only through the fenced script by the lease holder.
import { keys } from '../protocol/keys.js';
import { TaskRecord, TaskViewSource } from '../protocol/task.js';
import type { ScriptedRedis } from './redis/scripts.js';

export type WriteResult = 'written' | 'stale' | 'exists' | 'missing';

/** A connection reads can take (see TaskStore's `viewReads`). */
export type TaskReads = { get(key: string): Promise<string | null> };

export class TaskStore {
  constructor(
    private readonly redis: ScriptedRedis,
    /** How long a finished task stays readable. */
    private readonly finishedTtlMs: number,
    /**
     * Describe's reads may take their own auto-pipelined connection: under load every Describe is one
     * GET, and sending the GETs of one loop turn in one socket write cuts what a call costs (the write
     * was its largest part). The actors' reads and all writes stay on `redis`, unpipelined, so their
     * order with scripts and MULTI holds; a read sent after a write was answered sees it either way.
     */
    private readonly viewReads: TaskReads = redis,
  ) {}

  get(taskId: string): Promise<TaskRecord | null> {
    return this.read(this.redis, taskId, TaskRecord);
  }

  /** What Describe needs: the stored request, most of a record, is not validated on every poll. */
  getView(taskId: string): Promise<TaskViewSource | null> {
    return this.read(this.viewReads, taskId, TaskViewSource);
  }

  private async read<T>(from: TaskReads, taskId: string, schema: { parse(v: unknown): T }): Promise<T | null> {
    const raw = await from.get(keys.task(taskId));
    return raw === null ? null : schema.parse(JSON.parse(raw));
  }

  async write(record: TaskRecord, token: number, mode: 'create' | 'update'): Promise<WriteResult> {
    const id = record.TaskID;
    const ttl = record.Status === 'finished' ? this.finishedTtlMs : 0;
    const r = await this.redis.wrFencedWrite(keys.task(id), keys.lease(id), keys.fence(id), token, JSON.stringify(record), ttl, mode);
    return r === 1 ? 'written' : r === 0 ? 'stale' : r === -1 ? 'exists' : 'missing';
  }
}
