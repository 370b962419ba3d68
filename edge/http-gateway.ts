// A TaskGateway that is an HTTP client of one region's hosts (the gateway RPC): what an edge worker
// uses for every region, and a host for the regions other than its own. Web-standard: fetch and
// WebCrypto only. Whatever keeps the region from answering (no connection, a timeout, a refused
// signature, an answer that is not ours) is ServiceUnavailable to the caller, naming the region.
import type { StartRequest, TaskCommand } from '../protocol/api.js';
import { type CommandOutcome, type Health, ServiceUnavailableError, type StartOutcome, type TaskGateway } from '../protocol/gateway.js';
import { type GatewayAnswer, type GatewayCall, GATEWAY_RPC_PATH, regionAudience } from '../protocol/gateway-rpc.js';
import type { RecorderView, TaskQuery } from '../protocol/listing.js';
import { rpcHeaders } from '../protocol/rpc-signature.js';
import type { DescribeView } from '../protocol/task.js';

export type HttpGatewayOptions = {
  region: string;
  /** The region's endpoint (a host, or a balancer before its hosts), without a trailing slash. */
  url: string;
  /** CLUSTER_SECRET of that region's hosts. */
  secret: string;
  /** A read (Describe, the lists, health) answers within this or is ServiceUnavailable. */
  readTimeoutMs?: number;
  /** A change (Start, a command) may wait for a task's lease on the far side: longer. */
  changeTimeoutMs?: number;
  fetch?: typeof fetch;
};

export class HttpGateway implements TaskGateway {
  private readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: HttpGatewayOptions) {
    this.url = o.url.replace(/\/+$/, '') + GATEWAY_RPC_PATH;
    this.fetch = o.fetch ?? ((input, init) => fetch(input, init));
  }

  start(request: StartRequest): Promise<StartOutcome> {
    return this.call({ op: 'start', request }, this.changeMs) as Promise<StartOutcome>;
  }

  command(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    return this.call({ op: 'command', taskId, command }, this.changeMs) as Promise<CommandOutcome>;
  }

  describe(taskId: string): Promise<DescribeView | null> {
    return this.call({ op: 'describe', taskId }, this.readMs) as Promise<DescribeView | null>;
  }

  listTasks(query: TaskQuery): Promise<DescribeView[]> {
    return this.call({ op: 'listTasks', query: { limit: query.limit, ...(query.status ? { status: query.status } : {}) } }, this.readMs) as Promise<DescribeView[]>;
  }

  describeRecorders(): Promise<RecorderView[]> {
    return this.call({ op: 'describeRecorders' }, this.readMs) as Promise<RecorderView[]>;
  }

  async health(): Promise<Health> {
    try {
      return (await this.call({ op: 'health' }, this.readMs)) as Health;
    } catch (err) {
      return { ok: false, detail: { region: this.o.region, error: (err as Error).message } };
    }
  }

  /** The edge's used signatures, kept in the region's store (edge/app-auth.ts SeenSignatures). */
  async firstUse(id: string, ttlMs: number): Promise<boolean> {
    return (await this.call({ op: 'firstUse', id, ttlMs: Math.min(3_600_000, Math.max(1, Math.ceil(ttlMs))) }, this.readMs)) === true;
  }

  /** A RATE_LIMIT take, counted in the region's store (edge/rate-limit.ts RateLimiter). */
  async take(client: string, perSecond: number, burst: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
    return (await this.call({ op: 'take', client, perSecond, burst }, this.readMs)) as { ok: true } | { ok: false; retryAfterMs: number };
  }

  private get readMs() {
    return this.o.readTimeoutMs ?? 2000;
  }

  private get changeMs() {
    return this.o.changeTimeoutMs ?? 15_000;
  }

  private async call(call: GatewayCall, timeoutMs: number): Promise<unknown> {
    const where = `region ${this.o.region}`;
    const body = JSON.stringify(call);
    let res: Response;
    try {
      const headers = await rpcHeaders(this.o.secret, 'POST', GATEWAY_RPC_PATH, body, regionAudience(this.o.region));
      res = await this.fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new ServiceUnavailableError(`${where} cannot be reached (${why}); try again`);
    }
    let answer: GatewayAnswer;
    try {
      answer = (await res.json()) as GatewayAnswer;
    } catch {
      throw new ServiceUnavailableError(`${where} answered HTTP ${res.status}, not a gateway answer; try again`);
    }
    if (answer?.ok === true) return answer.result;
    const error = typeof answer?.error === 'string' ? answer.error.slice(0, 300) : `HTTP ${res.status}`;
    if (answer?.code === 'unavailable') throw new ServiceUnavailableError(error);
    // A refused signature or a call the far side does not take is this deployment's own fault
    // (CLUSTER_SECRET, REGION_ENDPOINTS, versions), not the client's: said, as unavailable.
    throw new ServiceUnavailableError(`${where} did not take the call: ${error}`);
  }
}
