// The recorder bus: everything that passes between the task runtime and the recorders, over Redis,
// with its delivery rules written here and nowhere else.
//
// Start jobs   runtime → any recorder. One stream per region, read through a consumer group by
//              recorders with room (GroupStream rules). A recorder acknowledges a job only once its
//              `accepted` event is written: a job read by a recorder that dies before that goes to
//              another. A job read after its `notAfter` is acknowledged and dropped unstarted.
// Commands     runtime → the recorder holding a task. The recorder's own stream, read on from where
//              it last read; deleted when the recorder stops, expiring a day after its last command
//              when the recorder died instead.
// Events       recorder → the task's owner. One stream per region, read through a consumer group by
//              the runtime hosts, each event handed to its task's owner and acknowledged once handled.
//              The events of one attempt carry consecutive numbers (a number is used only once its
//              event is sent, so there are no gaps); the actor applies them in that order, whatever
//              order hosts deliver them in.
// Heartbeats   recorder → everyone. Typed (RecorderHeartbeat), in the region's live registry: the
//              runtime watches who holds a task, recorders leave a job to an idler peer.
import { addJson, parseRead } from '../lib/streams.js';
import { LiveRegistry } from '../lib/live-registry.js';
import { type RedisClient, throwIfFailed } from '../lib/redis-connect.js';
import { EVENTS_GROUP, JOBS_GROUP, keys, PAYLOAD_FIELD } from '../protocol/keys.js';
import { RecorderCommand, RecorderEvent, RecorderHeartbeat, StartJob } from '../protocol/recorder.js';
import { GroupStream } from './group-stream.js';

/** A recorder that has not beaten for this long is taken for dead. */
export const RECORDER_HEARTBEAT_TTL_MS = 6000;
export const RECORDER_HEARTBEAT_EVERY_MS = 2000;
/** A command stream outlives its last command by this much when its recorder died without deleting it. */
const COMMANDS_TTL_MS = 86_400_000;
const COMMANDS_MAX_LEN = 1000;
/** A job or event pending this long on a live reader is taken by another (it forgot it). */
const STALE_AFTER_MS = 60_000;

export type TakenJob = { job: StartJob; ack(): Promise<void> };
export type Logged = { warn(obj: Record<string, unknown>, msg: string): void };

export class RecorderBus {
  readonly recorders: LiveRegistry<RecorderHeartbeat>;

  constructor(
    private readonly redis: RedisClient,
    readonly region: string,
  ) {
    this.recorders = new LiveRegistry(redis, keys.recorders(region), keys.recorderBeats(region), RecorderHeartbeat);
  }

  async enqueueStart(job: StartJob): Promise<void> {
    await addJson(this.redis, keys.jobs(this.region), job);
  }

  async command(recorderId: string, command: RecorderCommand): Promise<void> {
    const key = keys.recorderCommands(recorderId);
    throwIfFailed(await this.redis.pipeline().xadd(key, 'MAXLEN', '~', COMMANDS_MAX_LEN, '*', PAYLOAD_FIELD, JSON.stringify(command)).pexpire(key, COMMANDS_TTL_MS).exec());
  }

  /**
   * The region's Start jobs no recorder has taken yet (the group's lag; null when Redis cannot tell,
   * as after entries were deleted) and those taken but not yet acknowledged.
   */
  async queueLength(): Promise<{ waiting: number | null; taken: number }> {
    const groups = (await this.redis.call('XINFO', 'GROUPS', keys.jobs(this.region)).catch((err: Error) => {
      if (/no such key/i.test(err.message)) return [];
      throw err;
    })) as unknown[][];
    for (const g of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
      if (info.get('name') !== JOBS_GROUP) continue;
      const lag = info.get('lag');
      return { waiting: lag === null || lag === undefined ? null : Number(lag), taken: Number(info.get('pending') ?? 0) };
    }
    return { waiting: 0, taken: 0 };
  }

  /** Sends one event; the caller numbers them (see TaskEvents in the recorder). */
  async emit(event: RecorderEvent): Promise<void> {
    await addJson(this.redis, keys.events(this.region), event);
  }

  jobReader(recorderId: string, log: Logged): JobReader {
    return new JobReader(new GroupStream(this.redis, keys.jobs(this.region), JOBS_GROUP, recorderId, { staleAfterMs: STALE_AFTER_MS, reclaimEveryMs: 2000 }), log);
  }

  commandReader(recorderId: string, log: Logged): CommandReader {
    return new CommandReader(this.redis, recorderId, log);
  }

  eventReader(hostId: string, log: Logged): EventReader {
    return new EventReader(new GroupStream(this.redis, keys.events(this.region), EVENTS_GROUP, hostId, { staleAfterMs: STALE_AFTER_MS, reclaimEveryMs: 2000 }), log);
  }
}

export class JobReader {
  constructor(
    private readonly stream: GroupStream,
    private readonly log: Logged,
  ) {}

  init(): Promise<void> {
    return this.stream.init();
  }

  /** The next Start job, or null after blockMs. It is the reader's until `ack` (see the rules above). */
  async take(reader: RedisClient, blockMs: number, isLive: (recorderId: string) => boolean, now = Date.now): Promise<TakenJob | null> {
    const [entry] = await this.stream.read(reader, 1, blockMs, isLive);
    if (!entry) return null;
    const ack = () => this.stream.ack([entry.id]);
    const parsed = StartJob.safeParse(entry.payload);
    if (!parsed.success) {
      this.log.warn({ id: entry.id }, 'dropping a malformed Start job');
      await ack();
      return null;
    }
    if (parsed.data.notAfter !== undefined && parsed.data.notAfter < now()) {
      this.log.warn({ taskId: parsed.data.TaskID }, 'dropping a Start job its task gave up waiting for (QUEUE_TIMEOUT_S)');
      await ack();
      return null;
    }
    return { job: parsed.data, ack };
  }

  /** A job taken but not started (its `accepted` could not be sent): read again later. */
  giveBack(): void {
    this.stream.recheckOwn();
  }

  leave(): Promise<void> {
    return this.stream.leave();
  }
}

export class CommandReader {
  private lastId = '0-0';
  private readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    recorderId: string,
    private readonly log: Logged,
  ) {
    this.key = keys.recorderCommands(recorderId);
  }

  async read(reader: RedisClient, blockMs: number): Promise<RecorderCommand[]> {
    const out: RecorderCommand[] = [];
    for (const { id, payload } of parseRead(await reader.xread('COUNT', 50, 'BLOCK', blockMs, 'STREAMS', this.key, this.lastId))) {
      this.lastId = id;
      const c = RecorderCommand.safeParse(payload);
      if (c.success) out.push(c.data);
      else this.log.warn({ id }, 'dropping a malformed command');
    }
    return out;
  }

  /** The recorder stops: its stream goes with it. */
  async remove(): Promise<void> {
    await this.redis.del(this.key);
  }
}

export class EventReader {
  constructor(
    private readonly stream: GroupStream,
    private readonly log: Logged,
  ) {}

  init(): Promise<void> {
    return this.stream.init();
  }

  /** Up to `count` events; malformed entries are acknowledged and dropped here. */
  async read(reader: RedisClient, count: number, blockMs: number, isLive: (hostId: string) => boolean): Promise<{ id: string; event: RecorderEvent }[]> {
    const entries = await this.stream.read(reader, count, blockMs, isLive);
    const out: { id: string; event: RecorderEvent }[] = [];
    const bad: string[] = [];
    for (const { id, payload } of entries) {
      const parsed = RecorderEvent.safeParse(payload);
      if (parsed.success) out.push({ id, event: parsed.data });
      else bad.push(id);
    }
    if (bad.length) {
      this.log.warn({ ids: bad }, 'dropping malformed recorder events');
      await this.stream.ack(bad);
    }
    return out;
  }

  ack(ids: string[]): Promise<void> {
    return this.stream.ack(ids);
  }

  /** Some events were not handled: read what is pending on this reader again. */
  retryPending(): void {
    this.stream.recheckOwn();
  }

  leave(): Promise<void> {
    return this.stream.leave();
  }
}
