// Notices recorders that went silent: every couple of seconds, each task in the shards this host owns
// whose recorder is no longer in the live registry (its heartbeat expired) is told, and its actor
// decides what to do. The index it reads is written with the task itself (see indexesOf).
import { RECORDER_HEARTBEAT_TTL_MS } from '../bus/recorder-bus.js';
import type { LiveRegistry } from '../lib/live-registry.js';
import type { Logger } from '../lib/logger.js';
import { Periodic } from '../lib/periodic.js';
import type { RecorderHeartbeat } from '../protocol/recorder.js';
import type { TaskMessage } from '../protocol/task-messages.js';
import type { HostView } from '../wrangler-free-runtime/placement/host-view.js';
import type { ShardIndexes } from '../wrangler-free-runtime/shard-indexes.js';

export class RecorderWatch {
  private readonly periodic: Periodic;
  /** The last look failed (the store away): when it is back, heartbeats need a round to catch up. */
  private lastFailed = false;
  private judgeAfter = 0;

  constructor(
    private readonly d: {
      indexes: ShardIndexes;
      view: HostView;
      recorders: LiveRegistry<RecorderHeartbeat>;
      tell(taskId: string, message: TaskMessage): Promise<unknown>;
      log: Logger;
      everyMs?: number;
    },
  ) {
    this.periodic = new Periodic(
      d.everyMs ?? 2000,
      () => this.tick(),
      (err) => d.log.warn({ err: String(err) }, 'recorder watch failed'),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  async tick(): Promise<void> {
    let live: Map<string, RecorderHeartbeat>;
    let watched: Map<string, string>[];
    try {
      live = await this.d.recorders.live();
      watched = await Promise.all(this.d.view.ownedShards().map((shard) => this.d.indexes.watches(shard)));
    } catch (err) {
      this.lastFailed = true;
      throw err;
    }
    // Recorders could not beat while the store was away, so their entries ran out with its clock:
    // none is judged until each has had the time of a heartbeat's life to beat again.
    if (this.lastFailed) {
      this.lastFailed = false;
      this.judgeAfter = Date.now() + RECORDER_HEARTBEAT_TTL_MS;
      this.d.log.info('the store is back: recorders are judged again once they have had time to beat');
    }
    if (Date.now() < this.judgeAfter) return;
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
  }
}
