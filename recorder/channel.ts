// The recorder's end of the Redis streams: Start jobs through the consumer group, its own command
// stream, and events back to the runtime (each stamped with task, attempt, recorder and sequence).
import type { Redis } from 'ioredis';
import { JOBS_GROUP, keys } from '../protocol/keys.js';
import { RecorderCommand, type RecorderEventBody, StartJob } from '../protocol/recorder.js';
import type { Logger } from '../lib/logger.js';
import { unlessAborted } from '../lib/redis-gone.js';
import { addJson, ensureGroup, parseEntries, parseRead, type StreamEntry } from '../lib/streams.js';

const JOB_CLAIM_IDLE_MS = 30_000;

export class RecorderChannel {
  private lastCommandId = '0-0';
  private lastClaim = 0;

  constructor(
    private readonly redis: Redis,
    private readonly jobReader: Redis,
    private readonly commandReader: Redis,
    private readonly region: string,
    readonly recorderId: string,
    private readonly log: Logger,
  ) {}

  async init(): Promise<void> {
    await ensureGroup(this.redis, keys.jobs(this.region), JOBS_GROUP);
  }

  /** Waits up to blockMs for one Start job; it is acknowledged and removed from the stream at once. */
  async nextJob(blockMs: number): Promise<StartJob | null> {
    const stream = keys.jobs(this.region);
    let entries: StreamEntry[] = [];
    if (Date.now() - this.lastClaim > JOB_CLAIM_IDLE_MS / 2) {
      // Jobs read by a recorder that died before taking them.
      this.lastClaim = Date.now();
      const res = (await this.redis.xautoclaim(stream, JOBS_GROUP, this.recorderId, JOB_CLAIM_IDLE_MS, '0-0', 'COUNT', 1)) as [
        string,
        [string, string[]][],
      ];
      entries = parseEntries(res[1] ?? []);
    }
    if (!entries.length) {
      entries = parseRead(
        await this.jobReader.xreadgroup('GROUP', JOBS_GROUP, this.recorderId, 'COUNT', 1, 'BLOCK', blockMs, 'STREAMS', stream, '>'),
      );
    }
    const entry = entries[0];
    if (!entry) return null;
    await this.redis.pipeline().xack(stream, JOBS_GROUP, entry.id).xdel(stream, entry.id).exec();
    const job = StartJob.safeParse(entry.payload);
    if (!job.success) {
      this.log.warn({ id: entry.id }, 'dropping a malformed Start job');
      return null;
    }
    return job.data;
  }

  async nextCommands(blockMs: number): Promise<RecorderCommand[]> {
    const entries = parseRead(
      await this.commandReader.xread('COUNT', 50, 'BLOCK', blockMs, 'STREAMS', keys.recorderCommands(this.recorderId), this.lastCommandId),
    );
    const out: RecorderCommand[] = [];
    for (const e of entries) {
      this.lastCommandId = e.id;
      const c = RecorderCommand.safeParse(e.payload);
      if (c.success) out.push(c.data);
      else this.log.warn({ id: e.id }, 'dropping a malformed command');
    }
    return out;
  }

  private readonly abandon = new AbortController();

  eventsFor(taskId: string, attempt: number): TaskEvents {
    return new TaskEvents(this.redis, this.region, this.recorderId, taskId, attempt, this.log, this.abandon.signal);
  }

  /** Redis is gone and the recorder is ending: events still unsent are given up, now and from now on. */
  abandonEvents(): void {
    this.abandon.abort(new Error('Redis is unreachable and the recorder is shutting down'));
  }

  async heartbeat(info: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.redis.set(keys.recorderHeartbeat(this.region, this.recorderId), JSON.stringify(info), 'PX', ttlMs);
  }

  async clearHeartbeat(): Promise<void> {
    await this.redis.del(keys.recorderHeartbeat(this.region, this.recorderId));
  }
}

/** Events of one recording attempt, numbered in the order they are sent. */
export class TaskEvents {
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly region: string,
    private readonly recorderId: string,
    readonly taskId: string,
    readonly attempt: number,
    private readonly log: Logger,
    private readonly abandoned: AbortSignal = new AbortController().signal,
  ) {}

  /**
   * Sends in order; retried for a while if Redis is briefly away, since the task depends on them.
   * Answers whether it was sent: a result not reported must not have its intermediate files removed.
   * Once abandoned (a shutdown that found Redis gone) nothing waits or is retried.
   */
  emit(body: RecorderEventBody, at = Date.now()): Promise<boolean> {
    const event = { ...body, TaskID: this.taskId, attempt: this.attempt, recorderId: this.recorderId, seq: ++this.seq, at };
    const sent = this.tail.then(async () => {
      for (let i = 0; ; i++) {
        try {
          await unlessAborted(addJson(this.redis, keys.events(this.region), event), this.abandoned);
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
