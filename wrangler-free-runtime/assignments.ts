// Which recorder each unfinished task depends on, kept in Redis for the heartbeat watch (a hash of
// TaskID → recorder id), so a restarted host still knows whom to watch.
import type { Redis } from 'ioredis';
import { keys } from '../protocol/keys.js';

export class Assignments {
  private readonly key: string;
  constructor(
    private readonly redis: Redis,
    region: string,
  ) {
    this.key = keys.assignments(region);
  }

  async set(taskId: string, recorderId: string | null): Promise<void> {
    if (recorderId) await this.redis.hset(this.key, taskId, recorderId);
    else await this.redis.hdel(this.key, taskId);
  }

  /** Every assignment, as recorder id → its TaskIDs. */
  async byRecorder(): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(this.key, cursor, 'COUNT', 500);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const [taskId, recorderId] = [flat[i]!, flat[i + 1]!];
        out.set(recorderId, [...(out.get(recorderId) ?? []), taskId]);
      }
    } while (cursor !== '0');
    return out;
  }
}
