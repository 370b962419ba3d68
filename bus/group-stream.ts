// A stream read through a consumer group, with the delivery rules both of the bus's group streams
// (Start jobs, recorder events) follow:
// - an entry is acknowledged (and deleted) only by `ack`, once its reader has durably done its part;
// - a reader first takes back what it read earlier and never acknowledged (it crashed half-way, or
//   Redis was away), then what readers that are no longer alive left pending, then new entries;
// - the consumer of a reader found dead is deleted once nothing is pending on it.
// Readers are named by their live-registry id, so "alive" is the registry's word, not a guessed idle
// time; as a last resort an entry pending for `staleAfterMs` on a live reader is taken too.
import { ensureGroup, parseEntries, parseRead, type StreamEntry } from '../lib/streams.js';
import { type RedisClient, throwIfFailed } from '../lib/redis-connect.js';

export type GroupStreamOptions = {
  /** An entry pending this long on a reader that is alive is taken anyway (it forgot it). */
  staleAfterMs: number;
  /** How often a reader looks for entries left by dead readers. */
  reclaimEveryMs: number;
};

type PendingSummary = [count: number, first: string | null, last: string | null, consumers: [string, string][] | null];

export class GroupStream {
  private lastReclaim = 0;
  private ownChecked = false;

  constructor(
    private readonly redis: RedisClient,
    readonly stream: string,
    readonly group: string,
    readonly consumer: string,
    private readonly o: GroupStreamOptions,
  ) {}

  init(): Promise<void> {
    return ensureGroup(this.redis, this.stream, this.group);
  }

  /**
   * Up to `count` entries for this reader. `reader` may be a connection of its own (the read blocks
   * up to blockMs); `isLive` says which other readers are alive.
   */
  async read(reader: RedisClient, count: number, blockMs: number, isLive: (consumer: string) => boolean): Promise<StreamEntry[]> {
    if (!this.ownChecked) {
      // Ours from before (a restart under the same name, a read whose ack failed).
      const own = parseRead(await this.redis.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', this.stream, '0'));
      if (own.length) return own;
      this.ownChecked = true;
    }
    if (Date.now() - this.lastReclaim >= this.o.reclaimEveryMs) {
      this.lastReclaim = Date.now();
      const reclaimed = await this.reclaim(count, isLive);
      if (reclaimed.length) return reclaimed;
    }
    return parseRead(await reader.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.stream, '>'));
  }

  /** After a failure to ack or to handle: look at what is pending on this reader again. */
  recheckOwn(): void {
    this.ownChecked = false;
  }

  async ack(ids: string[]): Promise<void> {
    if (!ids.length) return;
    // One key: one slot, so a pipeline is fine on a cluster.
    throwIfFailed(
      await this.redis
        .pipeline()
        .xack(this.stream, this.group, ...ids)
        .xdel(this.stream, ...ids)
        .exec(),
    );
  }

  /** Forgets this reader in the group (it stops); what it still had pending goes to the others. */
  async leave(): Promise<void> {
    const pending = await this.pendingOf(this.consumer, 1);
    if (!pending.length) await this.redis.xgroup('DELCONSUMER', this.stream, this.group, this.consumer);
  }

  private async reclaim(count: number, isLive: (consumer: string) => boolean): Promise<StreamEntry[]> {
    const [, , , consumers] = (await this.redis.xpending(this.stream, this.group)) as PendingSummary;
    const out: StreamEntry[] = [];
    for (const [name] of consumers ?? []) {
      if (name === this.consumer || out.length >= count) continue;
      const dead = !isLive(name);
      const ids = await this.pendingOf(name, count - out.length, dead ? 0 : this.o.staleAfterMs);
      if (ids.length) {
        const claimed = (await this.redis.call('XCLAIM', this.stream, this.group, this.consumer, dead ? 0 : this.o.staleAfterMs, ...ids)) as [string, string[]][];
        out.push(...parseEntries(claimed));
      }
      // Nothing left on a dead reader: forget it, so the group does not grow with every restart.
      if (dead && !(await this.pendingOf(name, 1)).length) await this.redis.xgroup('DELCONSUMER', this.stream, this.group, name);
    }
    return out;
  }

  private async pendingOf(consumer: string, count: number, minIdleMs = 0): Promise<string[]> {
    const rows = (await this.redis.xpending(this.stream, this.group, 'IDLE', minIdleMs, '-', '+', count, consumer)) as [string, string, number, number][];
    return rows.map((r) => r[0]);
  }
}
