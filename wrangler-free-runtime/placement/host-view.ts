// This host's view of the region's live runtime hosts: it announces itself (internal URL, region,
// load) in the live registry every third of the lease TTL, and reads everyone's announcements at the
// same time. Placement decisions (who owns a shard) are made from this view, so every host decides
// alike within one beat. While Redis cannot be read the last view stands.
import { z } from 'zod';
import { LiveRegistry } from '../../lib/live-registry.js';
import type { Logger } from '../../lib/logger.js';
import type { RedisClient } from '../../lib/redis-connect.js';
import { keys } from '../../protocol/keys.js';
import { shardOf } from '../../protocol/shard.js';
import { ownerOf, shardsOwnedBy } from './rendezvous.js';

export const HostInfo = z.object({
  id: z.string(),
  /** Where peers reach it (INTERNAL_URL). */
  url: z.string(),
  region: z.string(),
  version: z.string(),
  startedAt: z.number(),
  /** Actors it runs now. */
  actors: z.number().int().nonnegative(),
  /** A fingerprint of its CLUSTER_SECRET (null: it has none and cannot talk to peers). */
  clusterKey: z.string().nullable(),
  at: z.number(),
});
export type HostInfo = z.infer<typeof HostInfo>;

export class HostView {
  private readonly registry: LiveRegistry<HostInfo>;
  private hosts = new Map<string, HostInfo>();
  private ids: string[] = [];
  private owned: number[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(
    redis: RedisClient,
    private readonly self: Omit<HostInfo, 'actors' | 'at'>,
    private readonly o: { ttlMs: number; actors: () => number; log: Logger },
  ) {
    this.registry = new LiveRegistry(redis, keys.hosts(self.region), keys.hostBeats(self.region), HostInfo);
    this.set(new Map());
  }

  get selfId(): string {
    return this.self.id;
  }

  /** Live hosts other than this one, as the registry holds them now (start-up checks). */
  async peers(): Promise<HostInfo[]> {
    const live = await this.registry.live();
    live.delete(this.self.id);
    return [...live.values()];
  }

  /** Reads the live hosts without announcing this one (a host about to start its pollers). */
  async load(): Promise<void> {
    this.set(await this.registry.live());
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), Math.max(200, Math.floor(this.o.ttlMs / 3)));
    this.timer.unref();
  }

  /** Leaves the registry at once, so peers stop routing here before this host stops answering. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.registry.leave(this.self.id);
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The owner of the actor's shard among the live hosts, less the ones a caller found unreachable. */
  ownerOf(actorId: string, unreachable: ReadonlySet<string> = new Set()): string {
    const ids = unreachable.size ? this.ids.filter((id) => !unreachable.has(id)) : this.ids;
    return ownerOf(shardOf(actorId), ids) ?? this.self.id;
  }

  ownedShards(): readonly number[] {
    return this.owned;
  }

  isLive(hostId: string): boolean {
    return this.hosts.has(hostId);
  }

  urlOf(hostId: string): string | undefined {
    return this.hosts.get(hostId)?.url;
  }

  liveHosts(): HostInfo[] {
    return [...this.hosts.values()];
  }

  private async beat(): Promise<void> {
    try {
      const me: HostInfo = { ...this.self, actors: this.o.actors(), at: Date.now() };
      await this.registry.beat(this.self.id, me, this.o.ttlMs);
      const live = await this.registry.live();
      live.set(this.self.id, me);
      this.set(live);
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'host registry not reachable; placement keeps its last view');
    }
  }

  private set(live: Map<string, HostInfo>): void {
    // This host always counts itself: it must own something even when alone or cut off.
    if (!live.has(this.self.id)) live.set(this.self.id, { ...this.self, actors: 0, at: Date.now() });
    const ids = [...live.keys()].sort();
    this.hosts = live;
    if (ids.join(',') === this.ids.join(',')) return;
    const first = this.ids.length === 0;
    this.ids = ids;
    this.owned = shardsOwnedBy(this.self.id, ids);
    if (!first) this.o.log.info({ hosts: ids, ownedShards: this.owned.length }, 'live hosts changed');
    for (const l of this.listeners) l();
  }
}
