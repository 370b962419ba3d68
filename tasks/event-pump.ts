// Delivers recorder events to their tasks' actors, wherever they run. Every runtime host reads the
// region's event stream through the consumer group (the bus's rules: acknowledged only once handled,
// what a dead host left pending taken over), so one task's events may be read by several hosts at
// once; the actor applies them in the order they were sent and hands an early one back, which is
// delivered again shortly — and, if the gap never fills, applied past it.
import type { EventReader } from '../bus/recorder-bus.js';
import type { Logger } from '../lib/logger.js';
import type { RedisClient } from '../lib/redis-connect.js';
import type { RecorderEvent } from '../protocol/recorder.js';
import type { TaskMessage, TaskReply } from '../protocol/task-messages.js';

/** How long an early event waits for the ones before it before it is applied anyway. */
export const EARLY_EVENT_WAIT_MS = 3000;

export class EventPump {
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly d: {
      reader: EventReader;
      /** A connection of its own: the read blocks. */
      blocking: RedisClient;
      tell(taskId: string, message: TaskMessage): Promise<TaskReply | null>;
      isLive(hostId: string): boolean;
      log: Logger;
    },
  ) {}

  async start(): Promise<void> {
    await this.d.reader.init();
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops reading. A delivery under way is given 2 s: what it had not acknowledged stays pending and
   * is taken over by the hosts that stay (this one has left the live hosts by then).
   */
  async stop(): Promise<void> {
    this.running = false;
    this.d.blocking.disconnect();
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const entries = await this.d.reader.read(this.d.blocking, 100, 1000, this.d.isLive);
        const failed = await this.deliver(entries);
        if (failed) {
          this.d.reader.retryPending();
          await new Promise((r) => setTimeout(r, 500));
        }
      } catch (err) {
        if (!this.running) break;
        this.d.log.warn({ err: String(err) }, 'event stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Delivers a batch, one task's events in order and different tasks side by side; tells whether any failed. */
  private async deliver(entries: { id: string; event: RecorderEvent }[]): Promise<boolean> {
    if (!entries.length) return false;
    const byTask = new Map<string, { id: string; event: RecorderEvent }[]>();
    for (const e of entries) {
      const list = byTask.get(e.event.TaskID);
      if (list) list.push(e);
      else byTask.set(e.event.TaskID, [e]);
    }
    const done: string[] = [];
    let failed = false;
    await Promise.all(
      [...byTask].map(async ([taskId, list]) => {
        for (const { id, event } of list) {
          try {
            await this.inOrder(taskId, event);
            done.push(id);
          } catch (err) {
            this.d.log.warn({ taskId, seq: event.seq, err: String(err) }, 'event not delivered; it stays pending');
            failed = true;
            return;
          }
        }
      }),
    );
    await this.d.reader.ack(done);
    return failed;
  }

  private async inOrder(taskId: string, event: RecorderEvent): Promise<void> {
    const giveUpAt = Date.now() + EARLY_EVENT_WAIT_MS;
    let wait = 5;
    for (;;) {
      const late = Date.now() >= giveUpAt;
      const reply = await this.d.tell(taskId, { kind: 'event', event, ...(late ? { late } : {}) });
      if (reply === null || reply.ok || reply.code !== 'EarlyEvent') return;
      if (late) return;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 200);
      if (Date.now() >= giveUpAt) this.d.log.warn({ taskId, seq: event.seq, type: event.type }, 'an earlier event never came; applying this one past the gap');
    }
  }
}
