// What the task actor's effects turn into: Start jobs and commands on the recorder bus, and the
// finished-task webhook, whose outcome goes back to the task (wherever it runs by then) as a message.
import type { Effect } from '../actors/task-actor.js';
import type { RecorderBus } from '../bus/recorder-bus.js';
import type { Logger } from '../lib/logger.js';
import type { TaskMessage } from '../protocol/task-messages.js';
import type { CallbackSender } from './callback-sender.js';

export class TaskEffects {
  constructor(
    private readonly d: {
      bus: RecorderBus;
      callbacks: CallbackSender;
      /** Told of each callback try's outcome (the host's metrics). */
      onCallback?: (delivered: boolean) => void;
      /** Sends a message to a task wherever it runs (the router). */
      tell(taskId: string, message: TaskMessage): Promise<unknown>;
      log: Logger;
    },
  ) {}

  async perform(taskId: string, effects: Effect[]): Promise<void> {
    for (const effect of effects) {
      switch (effect.type) {
        case 'enqueueStart':
          await this.d.bus.enqueueStart(effect.job);
          break;
        case 'commandRecorder':
          await this.d.bus.command(effect.recorderId, effect.command);
          break;
        case 'deliverCallback':
          // Runs outside the mailbox; its outcome comes back as a message of its own.
          void this.d.callbacks
            .deliver(effect)
            .then((r) => {
              this.d.onCallback?.(r.ok);
              return this.d.tell(taskId, { kind: 'callbackResult', tryNumber: effect.tryNumber, ...r });
            })
            .catch((err) => this.d.log.error({ taskId, err: String(err) }, 'callback outcome not recorded; the try is repeated when its watchdog fires'));
          break;
      }
    }
  }
}
