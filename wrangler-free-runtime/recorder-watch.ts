// Notices recorders that went silent: every couple of seconds, each recorder some task depends on
// must still have its heartbeat key (it expires 6 s after the last beat). The tasks of one that does
// not are told, and their actors decide what to do.
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger.js';
import { keys } from '../protocol/keys.js';
import type { ActorHost } from './actor-host.js';
import type { Assignments } from './assignments.js';

export class RecorderWatch {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly redis: Redis,
    private readonly assignments: Assignments,
    private readonly host: ActorHost,
    private readonly region: string,
    private readonly log: Logger,
    private readonly everyMs = 2000,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const byRecorder = await this.assignments.byRecorder();
      if (!byRecorder.size) return;
      const ids = [...byRecorder.keys()];
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.exists(keys.recorderHeartbeat(this.region, id));
      const alive = (await pipe.exec()) ?? [];
      const lost = ids.filter((_, i) => alive[i]?.[1] === 0);
      for (const recorderId of lost) {
        const tasks = byRecorder.get(recorderId) ?? [];
        this.log.warn({ recorderId, tasks: tasks.length }, 'recorder stopped heartbeating');
        await Promise.all(
          tasks.map((taskId) =>
            this.host
              .send(taskId, { kind: 'recorderLost', recorderId })
              .then((reply) => (reply === null ? this.assignments.set(taskId, null) : undefined))
              .catch((err) => this.log.warn({ taskId, err: String(err) }, 'could not tell the task its recorder is lost')),
          ),
        );
      }
    } catch (err) {
      this.log.warn({ err: String(err) }, 'recorder watch failed');
    } finally {
      this.busy = false;
    }
  }
}
