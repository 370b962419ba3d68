// Delivers recorder events from the events stream to their task actors. Entries are acknowledged
// only once their actor has handled them; entries left pending by a host that died are claimed
// again. Actors drop duplicates by sequence number, so redelivery is harmless.
import type { Redis } from 'ioredis';
import { EVENTS_GROUP, keys } from '../protocol/keys.js';
import { RecorderEvent } from '../protocol/recorder.js';
import type { Logger } from '../lib/logger.js';
import { ensureGroup, parseEntries, parseRead, type StreamEntry } from '../lib/streams.js';
import type { ActorHost } from './actor-host.js';

const CLAIM_IDLE_MS = 15_000;

export class EventPump {
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly stream: string;
  private lastClaim = 0;

  constructor(
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly host: ActorHost,
    region: string,
    private readonly consumer: string,
    private readonly log: Logger,
  ) {
    this.stream = keys.events(region);
  }

  async start(): Promise<void> {
    await ensureGroup(this.redis, this.stream, EVENTS_GROUP);
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.blocking.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (Date.now() - this.lastClaim > CLAIM_IDLE_MS) await this.claimStale();
        const raw = await this.blocking.xreadgroup(
          'GROUP', EVENTS_GROUP, this.consumer, 'COUNT', 100, 'BLOCK', 1000, 'STREAMS', this.stream, '>',
        );
        await this.deliver(parseRead(raw));
      } catch (err) {
        if (!this.running) break;
        this.log.warn({ err: String(err) }, 'event stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async claimStale(): Promise<void> {
    this.lastClaim = Date.now();
    const res = (await this.redis.xautoclaim(this.stream, EVENTS_GROUP, this.consumer, CLAIM_IDLE_MS, '0-0', 'COUNT', 100)) as [
      string,
      [string, string[]][],
    ];
    const entries = parseEntries(res[1] ?? []);
    if (entries.length) {
      this.log.info({ count: entries.length }, 'redelivering recorder events left pending');
      await this.deliver(entries);
    }
  }

  private async deliver(entries: StreamEntry[]): Promise<void> {
    if (!entries.length) return;
    const byTask = new Map<string, { id: string; event: RecorderEvent }[]>();
    const done: string[] = [];
    for (const { id, payload } of entries) {
      const parsed = RecorderEvent.safeParse(payload);
      if (!parsed.success) {
        this.log.warn({ id }, 'dropping a malformed recorder event');
        done.push(id);
        continue;
      }
      const list = byTask.get(parsed.data.TaskID) ?? [];
      list.push({ id, event: parsed.data });
      byTask.set(parsed.data.TaskID, list);
    }
    // One task's events in order; different tasks side by side.
    await Promise.all(
      [...byTask].map(async ([taskId, list]) => {
        for (const { id, event } of list) {
          try {
            await this.host.send(taskId, { kind: 'event', event });
            done.push(id);
          } catch (err) {
            this.log.warn({ taskId, err: String(err) }, 'event not delivered; it stays pending');
            return;
          }
        }
      }),
    );
    if (done.length) {
      await this.redis.pipeline().xack(this.stream, EVENTS_GROUP, ...done).xdel(this.stream, ...done).exec();
    }
  }
}
