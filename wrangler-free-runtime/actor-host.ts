// Runs TaskActors the way a Durable Object platform would: one live instance per TaskID (held by a
// lease with a fencing token), one message at a time (mailbox), state that survives the host (Redis,
// fenced writes), alarms in Redis. The actor decides; this host persists, then performs the effects.
import { type ActorConfig, type ActorMessage, createTask, decide, type Effect, heldBy, nextAlarm, type Reply } from '../actors/task-actor.js';
import type { StoredRequest } from '../protocol/api.js';
import type { RecorderCommand, StartJob } from '../protocol/recorder.js';
import type { TaskRecord } from '../protocol/task.js';
import type { Logger } from '../lib/logger.js';
import type { Alarms } from './alarms.js';
import type { Assignments } from './assignments.js';
import type { Leases } from './lease.js';
import { Mailboxes } from './mailbox.js';
import type { TaskStore } from './task-store.js';

export type CallbackEffect = Extract<Effect, { type: 'deliverCallback' }>;

/** What the effects of an actor turn into. */
export interface EffectPorts {
  enqueueStart(job: StartJob): Promise<void>;
  commandRecorder(recorderId: string, command: RecorderCommand): Promise<void>;
  deliverCallback(effect: CallbackEffect): Promise<{ ok: boolean; error?: string }>;
}

type Activation = { token: number; record: TaskRecord; heldBy: string | null; usedAt: number };

/**
 * An actor without a message for this long is put to sleep: its lease is handed back and it leaves
 * memory; its next message (a recorder event, a command, its alarm) wakes it from the stored state.
 * Without this every queued task kept a lease renewed every few seconds, so a backlog of queued
 * tasks slowed every API call (Describe fell from 23k to 9k requests/s as 100k Starts queued).
 */
const PASSIVATE_AFTER_MS = 30_000;
/**
 * A task waiting in the queue for a recorder has nothing to do until one takes its job (whose first
 * event wakes it) or its alarm fires, so it sleeps at the first lease round after its last message.
 * Kept awake 30 s, a burst of Starts kept tens of thousands of leases renewing and Start itself slowed
 * round by round (4.8k → 2.6k requests/s over three 5 s rounds).
 */
const QUEUED_SLEEP_AFTER_MS = 0;

export class LeaseUnavailable extends Error {}

export class ActorHost {
  private readonly active = new Map<string, Activation>();
  private readonly boxes = new Mailboxes();
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(
    private readonly d: {
      store: TaskStore;
      leases: Leases;
      alarms: Alarms;
      assignments: Assignments;
      ports: EffectPorts;
      config: ActorConfig;
      log: Logger;
      now?: () => number;
      /** Idle time before an actor sleeps (default PASSIVATE_AFTER_MS). */
      passivateAfterMs?: number;
    },
  ) {
    this.now = d.now ?? Date.now;
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

  create(taskId: string, request: StoredRequest): Promise<void> {
    return this.boxes.run(taskId, async () => {
      const token = await this.acquire(taskId);
      const decision = createTask(taskId, request, this.now());
      const written = await this.d.store.write(decision.record, token, 'create');
      if (written !== 'written') throw new Error(`creating task ${taskId}: ${written}`);
      this.active.set(taskId, { token, record: decision.record, heldBy: null, usedAt: this.now() });
      await this.d.alarms.set(taskId, nextAlarm(decision.record));
      await this.perform(taskId, decision.effects);
    });
  }

  /** Delivers one message to the task's actor; null when there is no such task. */
  send(taskId: string, msg: ActorMessage): Promise<Reply | null> {
    return this.boxes.run(taskId, () => this.handle(taskId, msg));
  }

  private async handle(taskId: string, msg: ActorMessage): Promise<Reply | null> {
    for (let round = 0; ; round++) {
      const act = await this.activate(taskId);
      if (!act) return null;
      act.usedAt = this.now();
      const decision = decide(act.record, msg, this.now(), this.d.config);
      if (decision.record !== act.record) {
        const written = await this.d.store.write(decision.record, act.token, 'update');
        if (written === 'stale') {
          // Another host took the lease since we loaded the task: reload and decide again.
          this.active.delete(taskId);
          if (round < 2) continue;
          throw new LeaseUnavailable(`task ${taskId}: lease lost while writing`);
        }
        if (written === 'missing') {
          this.active.delete(taskId);
          return null;
        }
        act.record = decision.record;
        await this.syncIndexes(taskId, act);
      }
      await this.perform(taskId, decision.effects);
      if (act.record.Status === 'finished') await this.deactivate(taskId);
      return decision.reply;
    }
  }

  private async activate(taskId: string): Promise<Activation | null> {
    const held = this.active.get(taskId);
    if (held) return held;
    const token = await this.acquire(taskId);
    const record = await this.d.store.get(taskId);
    if (!record) {
      await this.d.leases.release(taskId, token);
      return null;
    }
    const act: Activation = { token, record, heldBy: null, usedAt: this.now() };
    this.active.set(taskId, act);
    // Re-register alarm and assignment in case the host that last ran the task died between writes.
    await this.d.alarms.set(taskId, nextAlarm(record));
    await this.d.assignments.set(taskId, (act.heldBy = heldBy(record)));
    return act;
  }

  /** The alarm and the recorder assignment follow the task's state (written after the state). */
  private async syncIndexes(taskId: string, act: Activation): Promise<void> {
    await this.d.alarms.set(taskId, nextAlarm(act.record));
    const held = heldBy(act.record);
    if (held !== act.heldBy) {
      await this.d.assignments.set(taskId, held);
      act.heldBy = held;
    }
  }

  private async deactivate(taskId: string): Promise<void> {
    const act = this.active.get(taskId);
    if (!act) return;
    this.active.delete(taskId);
    await this.d.leases.release(taskId, act.token);
  }

  /** How long this actor may go without a message before it sleeps. */
  private idleLimitMs(act: Activation): number {
    const queued = act.record.Status === 'normal' && act.heldBy === null;
    return queued ? QUEUED_SLEEP_AFTER_MS : (this.d.passivateAfterMs ?? PASSIVATE_AFTER_MS);
  }

  private async passivateIfIdle(taskId: string): Promise<void> {
    const act = this.active.get(taskId);
    if (act && act.usedAt <= this.now() - this.idleLimitMs(act)) await this.deactivate(taskId);
  }

  /** Takes the task's lease, waiting out a previous holder's lease (e.g. this host before a restart). */
  private async acquire(taskId: string): Promise<number> {
    const deadline = this.now() + this.d.leases.ttlMs + 1000;
    for (;;) {
      const got = await this.d.leases.acquire(taskId);
      if (got.ok) return got.token;
      if (this.now() >= deadline) {
        throw new LeaseUnavailable(`task ${taskId} is held by ${got.holder}`);
      }
      await new Promise((r) => setTimeout(r, Math.min(got.retryInMs, 250)));
    }
  }

  private async perform(taskId: string, effects: Effect[]): Promise<void> {
    for (const effect of effects) {
      switch (effect.type) {
        case 'enqueueStart':
          await this.d.ports.enqueueStart(effect.job);
          break;
        case 'commandRecorder':
          await this.d.ports.commandRecorder(effect.recorderId, effect.command);
          break;
        case 'deliverCallback':
          // Runs outside the mailbox; its outcome comes back as a message of its own.
          void this.d.ports
            .deliverCallback(effect)
            .then((r) => this.send(taskId, { kind: 'callbackResult', tryNumber: effect.tryNumber, ...r }))
            .catch((err) => this.d.log.error({ taskId, err: String(err) }, 'callback outcome not recorded'));
          break;
      }
    }
  }

  private async renewLeases(): Promise<void> {
    const now = this.now();
    for (const [id, a] of this.active) {
      // Through the mailbox: a message being handled (or queued) for it keeps it awake.
      if (a.usedAt <= now - this.idleLimitMs(a)) void this.boxes.run(id, () => this.passivateIfIdle(id)).catch(() => undefined);
    }
    const held = new Map([...this.active].map(([id, a]) => [id, a.token]));
    try {
      const lost = await this.d.leases.renew(held);
      for (const id of lost) {
        if (this.active.get(id)?.token !== held.get(id)) continue; // put to sleep meanwhile
        this.active.delete(id);
        this.d.log.warn({ taskId: id }, 'lease lost; the task will be reloaded on its next message');
      }
    } catch (err) {
      this.d.log.warn({ err: String(err) }, 'lease renewal failed');
    }
  }
}
