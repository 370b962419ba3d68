// The recorder's end of the recorder bus (../bus/recorder-bus.ts has the delivery rules): Start jobs
// through the consumer group, its own command stream, its heartbeat, and events back to the runtime,
// each stamped with task, attempt, recorder and sequence.
import type { CommandReader, JobReader, RecorderBus, TakenJob } from '../bus/recorder-bus.js';
import { RECORDER_HEARTBEAT_TTL_MS } from '../bus/recorder-bus.js';
import type { RedisClient } from '../lib/redis-connect.js';
import type { RecorderCommand, RecorderEventBody, RecorderHeartbeat } from '../protocol/recorder.js';
import type { Logger } from '../lib/logger.js';
import { unlessAborted } from '../lib/redis-gone.js';

export class RecorderChannel {
  private readonly jobs: JobReader;
  private readonly commands: CommandReader;
  /** Peers alive at the last look, with what they said (admission and job reclaiming read it). */
  private peers = new Map<string, RecorderHeartbeat>();

  constructor(
    private readonly bus: RecorderBus,
    private readonly jobReader: RedisClient,
    private readonly commandReader: RedisClient,
    readonly recorderId: string,
    private readonly log: Logger,
  ) {
    this.jobs = bus.jobReader(recorderId, log);
    this.commands = bus.commandReader(recorderId, log);
  }

  async init(): Promise<void> {
    await this.jobs.init();
  }

  /** Waits up to blockMs for one Start job. It stays this recorder's until acknowledged. */
  nextJob(blockMs: number): Promise<TakenJob | null> {
    return this.jobs.take(this.jobReader, blockMs, (id) => id === this.recorderId || this.peers.has(id));
  }

  /** A job whose `accepted` could not be sent: it is read again later. */
  giveBack(): void {
    this.jobs.giveBack();
  }

  nextCommands(blockMs: number): Promise<RecorderCommand[]> {
    return this.commands.read(this.commandReader, blockMs);
  }

  private readonly abandon = new AbortController();

  eventsFor(taskId: string, attempt: number): TaskEvents {
    return new TaskEvents(this.bus, this.recorderId, taskId, attempt, this.log, this.abandon.signal);
  }

  /** Redis is gone and the recorder is ending: events still unsent are given up, now and from now on. */
  abandonEvents(): void {
    this.abandon.abort(new Error('Redis is unreachable and the recorder is shutting down'));
  }

  /** Beats, and reads the peers' beats (one round trip each). */
  async heartbeat(beat: RecorderHeartbeat): Promise<void> {
    await this.bus.recorders.beat(this.recorderId, beat, RECORDER_HEARTBEAT_TTL_MS);
    const live = await this.bus.recorders.live();
    live.delete(this.recorderId);
    this.peers = live;
  }

  /** Other recorders alive at the last heartbeat. */
  livePeers(): RecorderHeartbeat[] {
    return [...this.peers.values()];
  }

  /** The recorder stops: it leaves the registry, its command stream and its place in the job group. */
  async leave(): Promise<void> {
    await Promise.allSettled([this.bus.recorders.leave(this.recorderId), this.commands.remove(), this.jobs.leave()]);
  }
}

/** Events of one recording attempt, numbered in the order they are sent. */
export class TaskEvents {
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: RecorderBus,
    private readonly recorderId: string,
    readonly taskId: string,
    readonly attempt: number,
    private readonly log: Logger,
    private readonly abandoned: AbortSignal = new AbortController().signal,
  ) {}

  /**
   * Sends in order; retried for a while if Redis is briefly away, since the task depends on them.
   * Answers whether it was sent: a result not reported must not have its intermediate files removed.
   * A number is taken only once its event is sent, so the task never waits for one that never comes.
   * Once abandoned (a shutdown that found Redis gone) nothing waits or is retried.
   */
  emit(body: RecorderEventBody, at = Date.now()): Promise<boolean> {
    const sent = this.tail.then(async () => {
      const event = { ...body, TaskID: this.taskId, attempt: this.attempt, recorderId: this.recorderId, seq: this.seq + 1, at };
      for (let i = 0; ; i++) {
        try {
          await unlessAborted(this.bus.emit(event), this.abandoned);
          this.seq = event.seq;
          return true;
        } catch (err) {
          if (i >= 30 || this.abandoned.aborted) {
            this.log.error({ taskId: this.taskId, type: body.type, err: String(err) }, 'event not sent');
            return false;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    });
    this.tail = sent;
    return sent;
  }
}
