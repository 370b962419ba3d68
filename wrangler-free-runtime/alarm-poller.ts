// Wakes the actors whose alarm is due. Each host polls the shards it owns (so every shard is polled,
// and by one host at a time but for a moment after the live hosts change; a claimed alarm is pushed
// ahead, so it is never delivered twice at once). A due alarm is delivered like any message: to the
// actor's owner, through the router.
import type { Logger } from '../lib/logger.js';
import { Periodic } from '../lib/periodic.js';
import type { HostView } from './placement/host-view.js';
import type { ShardIndexes } from './shard-indexes.js';

export class AlarmPoller {
  private readonly periodic: Periodic;

  constructor(
    private readonly d: {
      indexes: ShardIndexes;
      view: HostView;
      /** Delivers the alarm; null when the actor no longer exists. */
      deliver(id: string): Promise<unknown>;
      log: Logger;
      everyMs?: number;
    },
  ) {
    this.periodic = new Periodic(
      d.everyMs ?? 250,
      () => this.tick(),
      (err) => d.log.warn({ err: String(err) }, 'alarm poll failed'),
    );
  }

  start(): void {
    this.periodic.start();
  }

  stop(): void {
    this.periodic.stop();
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const due = (await Promise.all(this.d.view.ownedShards().map((shard) => this.d.indexes.claimDue(shard, now)))).flat();
    await Promise.all(
      due.map((id) =>
        this.d
          .deliver(id)
          // An alarm of an actor whose state expired is dropped.
          .then((reply) => (reply === null ? this.d.indexes.forget(id) : undefined))
          .catch((err) => this.d.log.warn({ actorId: id, err: String(err) }, 'alarm not handled')),
      ),
    );
  }
}
