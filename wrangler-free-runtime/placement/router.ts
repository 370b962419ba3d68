// Hands everything meant for an actor — an API call on any host, a recorder event, a due alarm — to
// the host that runs it: in-process when that is this host, else over the internal RPC.
//
// Who runs an actor: the owner of its shard by rendezvous hashing over the live hosts. Views of the
// live hosts can differ for a moment (a host joined or died a beat ago), so the lease stays the
// safety net: a host asked to run an actor whose lease another live host holds forwards the call to
// that holder rather than wait. A caller that finds the owner unreachable goes on to the next owner
// by the hash, telling it which hosts it found dead; that host takes the actor as soon as the dead
// owner's lease has expired — so an owner's death costs its actors at most one lease TTL, and no
// caller ever waits out a lease held by a live host. Calls travel at most MAX_HOPS hops.
import type { Logger } from '../../lib/logger.js';
import type { ActorHost } from '../actor-host.js';
import { LeaseHeld } from '../actor-host.js';
import type { ActorKind } from '../actor-kind.js';
import type { RpcClient } from '../rpc/client.js';
import { type ActorCall, ActorUnavailable, BadCall, Leaving, Unreachable } from '../rpc/messages.js';
import type { HostView } from './host-view.js';

const MAX_HOPS = 2;

type Op<Input, Message> = { op: 'send'; payload: Message } | { op: 'create'; payload: Input };

export class Router<State, Input, Message, Reply, Effect> {
  private stopping = false;

  constructor(
    private readonly d: {
      view: HostView;
      host: ActorHost<State, Input, Message, Reply, Effect>;
      kind: ActorKind<State, Input, Message, Reply, Effect>;
      /** Null without CLUSTER_SECRET: this host runs alone and never forwards. */
      rpc: RpcClient | null;
      leaseTtlMs: number;
      log: Logger;
    },
  ) {}

  /** Delivers a message to the actor wherever it runs; null when there is no such actor. */
  send(id: string, message: Message): Promise<Reply | null> {
    return this.deliver(id, { op: 'send', payload: message }, 0, new Set()) as Promise<Reply | null>;
  }

  create(id: string, input: Input): Promise<Reply> {
    return this.deliver(id, { op: 'create', payload: input }, 0, new Set()) as Promise<Reply>;
  }

  /** A call forwarded by a peer. */
  receive(call: ActorCall): Promise<unknown> {
    if (this.stopping) return Promise.reject(new Leaving(`host ${this.d.view.selfId} is stopping`));
    let op: Op<Input, Message>;
    try {
      op = call.op === 'send' ? { op: 'send', payload: this.d.kind.parseMessage(call.payload) } : { op: 'create', payload: this.d.kind.parseInput(call.payload) };
    } catch (err) {
      return Promise.reject(new BadCall(`payload of ${call.op}: ${String(err).slice(0, 300)}`));
    }
    return this.deliver(call.id, op, call.hops, new Set(call.unreachable));
  }

  /** From now on peers are sent on to the next owner; calls from this host still run. */
  stop(): void {
    this.stopping = true;
  }

  private async deliver(id: string, op: Op<Input, Message>, hops: number, unreachable: Set<string>): Promise<unknown> {
    const { view, host, rpc } = this.d;
    const deadline = Date.now() + this.d.leaseTtlMs + 1000;
    for (;;) {
      if (!host.holds(id) && rpc && hops < MAX_HOPS && !this.stopping) {
        const owner = view.ownerOf(id, unreachable);
        if (owner !== view.selfId) {
          const done = await this.forward(owner, id, op, hops, unreachable);
          if (done.ok) return done.result;
          continue; // the owner is unreachable: the next one by the hash
        }
      }
      try {
        return await this.local(id, op);
      } catch (err) {
        if (!(err instanceof LeaseHeld)) throw err;
        // A live peer still holds it (it owned the shard a moment ago): it runs the call.
        if (rpc && hops < MAX_HOPS && !unreachable.has(err.holder) && view.isLive(err.holder)) {
          const done = await this.forward(err.holder, id, op, hops, unreachable);
          if (done.ok) return done.result;
          continue;
        }
        // Its holder is gone (or we may not forward): its lease expires within the TTL.
        if (Date.now() >= deadline) throw new ActorUnavailable(`actor ${id} is held by ${err.holder}, which does not answer; try again shortly`);
        await new Promise((r) => setTimeout(r, Math.min(err.retryInMs, 250)));
      }
    }
  }

  private local(id: string, op: Op<Input, Message>): Promise<unknown> {
    return op.op === 'send' ? this.d.host.send(id, op.payload) : this.d.host.create(id, op.payload);
  }

  private async forward(to: string, id: string, op: Op<Input, Message>, hops: number, unreachable: Set<string>): Promise<{ ok: true; result: unknown } | { ok: false }> {
    const url = this.d.view.urlOf(to);
    if (!url) {
      unreachable.add(to);
      return { ok: false };
    }
    try {
      const result = await this.d.rpc!.call(to, url, { op: op.op, id, payload: op.payload, hops: hops + 1, unreachable: [...unreachable] });
      return { ok: true, result };
    } catch (err) {
      if (!(err instanceof Unreachable)) throw err;
      this.d.log.warn({ actorId: id, host: to, err: err.message }, 'host unreachable; trying the next owner');
      unreachable.add(to);
      return { ok: false };
    }
  }
}
