// Runs actors the way a Durable Object platform would: one live instance per id (held by a lease with
// a fencing token), one message at a time (mailbox), state that survives the host (Redis, fenced
// writes that carry the actor's indexes), and sleep when idle. The kind decides; this host persists,
// then hands the effects to the performer. Which host runs an actor is placement's business
// (placement/router.ts): a host asked to run an actor whose lease another holds says so at once
// (LeaseHeld) instead of waiting.
import type { Logger } from '../lib/logger.js';
import type { ActorKind } from './actor-kind.js';
import type { ActorStore } from './actor-store.js';
import type { Leases } from './lease.js';
import { Mailboxes } from './mailbox.js';

type Activation<State> = { token: number; record: State; usedAt: number };

/** The actor's lease is held by another host (or by an earlier life of this one). */
export class LeaseHeld extends Error {
  constructor(
    readonly id: string,
    readonly holder: string,
    readonly retryInMs: number,
  ) {
    super(`actor ${id} is held by ${holder}`);
  }
}

export class ActorHost<State, Input, Message, Reply, Effect> {
  private readonly active = new Map<string, Activation<State>>();
  private readonly boxes = new Mailboxes();
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly d: {
      kind: ActorKind<State, Input, Message, Reply, Effect>;
      store: ActorStore;
      leases: Leases;
      /** Carries out an actor's effects, after its state is written. */
      perform(id: string, effects: Effect[]): Promise<void>;
      log: Logger;
      now?: () => number;
    },
  ) {
    this.now = d.now ?? Date.now;
  }

  get id(): string {
    return this.d.leases.owner;
  }

  start(): void {
    const every = Math.max(200, Math.floor(this.d.leases.ttlMs / 3));
    this.renewTimer = setInterval(() => void this.renewLeases(), every);
    this.renewTimer.unref();
  }

  /** Stops renewing and hands every lease back so another host can take over at once. */
  async stop(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = null;
    const held = [...this.active.entries()];
    this.active.clear();
    await Promise.allSettled(held.map(([id, a]) => this.d.leases.release(id, a.token)));
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Whether this host runs the actor now (holds its lease). */
  holds(id: string): boolean {
    return this.active.has(id);
  }

  create(id: string, input: Input): Promise<Reply> {
    return this.boxes.run(id, async () => {
      const decision = this.d.kind.create(id, input, this.now());
      for (let round = 0; ; round++) {
        const token = await this.acquire(id);
        const written = await this.write(id, decision.record, token, 'create');
        // A lease that ran out between taking it and writing (a stalled host): take it again.
        if (written === 'stale' && round < 2) continue;
        if (written !== 'written') throw new Error(`creating actor ${id}: ${written}`);
        this.active.set(id, { token, record: decision.record, usedAt: this.now() });
        await this.d.perform(id, decision.effects);
        return decision.reply;
      }
    });
  }

  /** Delivers one message to the actor; null when there is no such actor. */
  send(id: string, msg: Message): Promise<Reply | null> {
    return this.boxes.run(id, () => this.handle(id, msg));
  }

  /** Puts to sleep, once idle between messages, every actor `test` picks (e.g. no longer ours to run). */
  release(test: (id: string) => boolean): void {
    for (const id of this.active.keys()) {
      if (test(id)) void this.boxes.run(id, () => this.deactivate(id)).catch(() => undefined);
    }
  }

  private async handle(id: string, msg: Message): Promise<Reply | null> {
    for (let round = 0; ; round++) {
      const act = await this.activate(id);
      if (!act) return null;
      act.usedAt = this.now();
      const decision = this.d.kind.decide(act.record, msg, this.now());
      if (decision.record !== act.record) {
        const written = await this.write(id, decision.record, act.token, 'update');
        if (written === 'stale') {
          // Another host took the lease since we loaded the actor: reload and decide again.
          this.active.delete(id);
          if (round < 2) continue;
          throw new Error(`actor ${id}: lease lost while writing`);
        }
        if (written === 'missing') {
          this.active.delete(id);
          return null;
        }
        act.record = decision.record;
      }
      await this.d.perform(id, decision.effects);
      if (this.d.kind.finished(act.record)) await this.deactivate(id);
      return decision.reply;
    }
  }

  private write(id: string, record: State, token: number, mode: 'create' | 'update') {
    const { kind } = this.d;
    return this.d.store.write(id, record, { token, mode, finished: kind.finished(record), indexes: kind.indexes(record) });
  }

  private async activate(id: string): Promise<Activation<State> | null> {
    const held = this.active.get(id);
    if (held) return held;
    const token = await this.acquire(id);
    const raw = await this.d.store.get(id);
    if (raw === null) {
      await this.d.leases.release(id, token);
      return null;
    }
    const act: Activation<State> = { token, record: this.d.kind.parseState(raw), usedAt: this.now() };
    this.active.set(id, act);
    return act;
  }

  private async deactivate(id: string): Promise<void> {
    const act = this.active.get(id);
    if (!act) return;
    // Held until the lease is handed back: a host asked meanwhile would find the lease still ours and
    // route the call here, to an actor that must then still be here to answer it.
    try {
      await this.d.leases.release(id, act.token);
    } finally {
      this.active.delete(id);
    }
  }

  private async passivateIfIdle(id: string): Promise<void> {
    const act = this.active.get(id);
    if (act && act.usedAt <= this.now() - this.d.kind.idleLimitMs(act.record)) await this.deactivate(id);
  }

  /** Takes the actor's lease, or says who holds it: callers are routed, never made to wait here. */
  private async acquire(id: string): Promise<number> {
    const got = await this.d.leases.acquire(id);
    if (got.ok) return got.token;
    throw new LeaseHeld(id, got.holder, got.retryInMs);
  }

  private async renewLeases(): Promise<void> {
    const now = this.now();
    for (const [id, a] of this.active) {
      // Through the mailbox: a message being handled (or queued) for it keeps it awake.
      if (a.usedAt <= now - this.d.kind.idleLimitMs(a.record)) void this.boxes.run(id, () => this.passivateIfIdle(id)).catch(() => undefined);
    }
    const held = new Map([...this.active].map(([id, a]) => [id, a.token]));
    try {
      const lost = await this.d.leases.renew(held);
      for (const id of lost) {
        if (this.active.get(id)?.token !== held.get(id)) continue; // put to sleep meanwhile
        this.active.delete(id);
        this.d.log.warn({ actorId: id }, 'lease lost; the actor will be reloaded on its next message');
      }
    } catch (err) {
      this.d.log.warn({ err: String(err) }, 'lease renewal failed');
    }
  }
}
