// Alarms kept in Redis (a sorted set of TaskIDs by due time), so they fire even if the host that set
// them is gone. A task has at most one pending alarm: the actor says when it next needs waking.
import { keys } from '../protocol/keys.js';
import type { ScriptedRedis } from './redis/scripts.js';

export class Alarms {
  private readonly key: string;
  constructor(
    private readonly redis: ScriptedRedis,
    region: string,
    /** A claimed alarm fires again after this long unless the actor rescheduled it. */
    private readonly retryAfterMs = 30_000,
  ) {
    this.key = keys.alarms(region);
  }

  async set(taskId: string, at: number | null): Promise<void> {
    if (at === null) await this.redis.zrem(this.key, taskId);
    else await this.redis.zadd(this.key, at, taskId);
  }

  async claimDue(now: number, limit = 100): Promise<string[]> {
    return this.redis.wrPopDueAlarms(this.key, now, limit, this.retryAfterMs);
  }
}
