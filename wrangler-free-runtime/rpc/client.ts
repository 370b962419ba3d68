// Calls a peer host over the internal RPC, signed with CLUSTER_SECRET. Connections are kept alive by
// fetch's pool, so a forwarded call costs one loopback or LAN round trip.
import { rpcHeaders } from '../../protocol/rpc-signature.js';
import { type ActorCall, type ActorCallAnswer, ActorUnavailable, RPC_PATH, Unreachable } from './messages.js';

export class RpcClient {
  constructor(
    private readonly secret: string,
    /** Longer than a receiver may wait for an actor's lease. */
    private readonly timeoutMs: number,
  ) {}

  async call(to: string, baseUrl: string, call: ActorCall): Promise<unknown> {
    const body = JSON.stringify(call);
    let res: Response;
    try {
      res = await fetch(baseUrl.replace(/\/+$/, '') + RPC_PATH, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await rpcHeaders(this.secret, 'POST', RPC_PATH, body, to)) },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new Unreachable(`host ${to} at ${baseUrl}: ${e.cause?.code ?? e.name ?? e.message}`);
    }
    let answer: ActorCallAnswer;
    try {
      answer = (await res.json()) as ActorCallAnswer;
    } catch {
      throw new Unreachable(`host ${to} answered HTTP ${res.status} without JSON`);
    }
    if (answer.ok) return answer.result;
    if (answer.code === 'leaving') throw new Unreachable(`host ${to} is leaving`);
    if (answer.code === 'unavailable') throw new ActorUnavailable(answer.error);
    throw new Error(`host ${to}: ${answer.error} (HTTP ${res.status})`);
  }
}
