// Notices recorders that went silent: every couple of seconds, each task in the shards this host owns
// whose recorder is no longer in the live registry (its heartbeat expired) is told, and its actor
// decides what to do. The index it reads is written with the task itself (see indexesOf).
import type { LiveRegistry } from '../lib/live-registry.js';
import type { Logger } from '../lib/logger.js';
import type { RecorderHeartbeat } from '../protocol/recorder.js';
import type { TaskMessage } from '../protocol/task-messages.js';
import type { HostView } from '../wrangler-free-runtime/placement/host-view.js';
import type { ShardIndexes } from '../wrangler-free-runtime/shard-indexes.js';

export class RecorderWatch {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly d: {
      indexes: ShardIndexes;
      view: HostView;
      recorders: LiveRegistry<RecorderHeartbeat>;
      tell(taskId: string, message: TaskMessage): Promise<unknown>;
      log: Logger;
      everyMs?: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.d.everyMs ?? 2000);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const live = await this.d.recorders.live();
      const watched = await Promise.all(this.d.view.ownedShards().map((shard) => this.d.indexes.watches(shard)));
      const lost = new Map<string, string[]>();
      for (const shard of watched) {
        for (const [taskId, recorderId] of shard) if (!live.has(recorderId)) lost.set(recorderId, [...(lost.get(recorderId) ?? []), taskId]);
      }
      for (const [recorderId, tasks] of lost) {
        this.d.log.warn({ recorderId, tasks: tasks.length }, 'recorder stopped heartbeating');
        await Promise.all(
          tasks.map((taskId) =>
            this.d
              .tell(taskId, { kind: 'recorderLost', recorderId })
              .then((reply) => (reply === null ? this.d.indexes.forget(taskId) : undefined))
              .catch((err) => this.d.log.warn({ taskId, err: String(err) }, 'could not tell the task its recorder is lost')),
          ),
        );
      }
    } catch (err) {
      this.d.log.warn({ err: String(err) }, 'recorder watch failed');
    } finally {
      this.busy = false;
    }
  }
}
