// Per-task leases with fencing tokens: one host at a time runs a task's actor.
import { keys } from '../protocol/keys.js';
import type { ScriptedRedis } from './redis/scripts.js';

export type Acquired = { ok: true; token: number } | { ok: false; holder: string; retryInMs: number };

export class Leases {
  constructor(
    private readonly redis: ScriptedRedis,
    readonly owner: string,
    readonly ttlMs: number,
  ) {}

  async acquire(taskId: string): Promise<Acquired> {
    const [ok, a, b] = await this.redis.wrAcquireLease(keys.lease(taskId), keys.fence(taskId), this.owner, this.ttlMs);
    if (ok === 1) return { ok: true, token: Number(a) };
    return { ok: false, holder: String(a), retryInMs: Math.max(50, Number(b ?? this.ttlMs)) };
  }

  /** Renews many leases in one round trip; returns the task ids whose lease was lost. */
  async renew(held: Map<string, number>): Promise<string[]> {
    if (held.size === 0) return [];
    const pipe = this.redis.pipeline();
    const ids = [...held.keys()];
    for (const id of ids) pipe.wrRenewLease(keys.lease(id), this.owner, held.get(id)!, this.ttlMs);
    const results = (await pipe.exec()) ?? [];
    return ids.filter((_, i) => results[i]?.[1] !== 1);
  }

  async release(taskId: string, token: number): Promise<void> {
    await this.redis.wrReleaseLease(keys.lease(taskId), this.owner, token);
  }
}

declare module 'ioredis' {
  interface ChainableCommander {
    wrRenewLease(lease: string, owner: string, token: number, ttlMs: number): ChainableCommander;
  }
}
