// Wakes the actors whose alarm is due (MaxDurationLimit, callback retries).
import type { Logger } from '../lib/logger.js';
import type { ActorHost } from './actor-host.js';
import type { Alarms } from './alarms.js';

export class AlarmPoller {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly alarms: Alarms,
    private readonly host: ActorHost,
    private readonly log: Logger,
    private readonly everyMs = 200,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const due = await this.alarms.claimDue(Date.now());
      await Promise.all(
        due.map((id) =>
          this.host
            .send(id, { kind: 'alarm' })
            // An alarm for a task that no longer exists is dropped.
            .then((reply) => (reply === null ? this.alarms.set(id, null) : undefined))
            .catch((err) => this.log.warn({ taskId: id, err: String(err) }, 'alarm not handled')),
        ),
      );
    } catch (err) {
      this.log.warn({ err: String(err) }, 'alarm poll failed');
    } finally {
      this.busy = false;
    }
  }
}
