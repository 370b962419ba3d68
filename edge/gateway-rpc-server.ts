// The receiving end of the gateway RPC (protocol/gateway-rpc.ts), mounted on every host of a region:
// a call from an edge worker or another region's host runs against this region's own TaskGateway.
// Nothing runs before the signature is checked; a call is never sent on to a third region, so a
// misconfigured REGION_ENDPOINTS cannot make calls go round.
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ServiceUnavailableError, type TaskGateway } from '../protocol/gateway.js';
import { type GatewayAnswer, GatewayCall, GATEWAY_RPC_PATH, MAX_GATEWAY_RPC_BYTES, regionAudience } from '../protocol/gateway-rpc.js';
import { regionOf } from '../protocol/region.js';
import { MAX_SKEW_MS, verify } from '../protocol/rpc-signature.js';
import type { SeenSignatures } from './app-auth.js';
import type { RateLimiter } from './rate-limit.js';

export type GatewayRpcOptions = {
  region: string;
  /** CLUSTER_SECRET; without it the endpoint takes no call. */
  secret: string | null;
  /** This region's own gateway (never the one that forwards to other regions). */
  gateway: TaskGateway;
  /** The region's store of used signatures: the RPC's nonces, and the edge's API signatures. */
  seen: SeenSignatures;
  /** RATE_LIMIT's counter in the region's store, at the rate and burst the edge asks. */
  limiter: (perSecond: number, burst: number) => RateLimiter;
  log: { warn(obj: Record<string, unknown>, msg: string): void };
};

export function createGatewayRpcApp(o: GatewayRpcOptions): Hono {
  const app = new Hono();
  const self = regionAudience(o.region);
  const nonces = { offer: (nonce: string, expiresAt: number, now: number) => o.seen.firstUse(`rpc:${nonce}`, Math.max(1000, expiresAt - now + MAX_SKEW_MS)) };
  const answer = (c: { json(b: unknown, s: ContentfulStatusCode): Response }, body: GatewayAnswer, status: ContentfulStatusCode = 200) => c.json(body, status);

  app.post(GATEWAY_RPC_PATH, async (c) => {
    if (!o.secret) return answer(c, { ok: false, code: 'refused', error: 'this host has no CLUSTER_SECRET and takes no gateway calls' }, 403);
    if (Number(c.req.header('content-length') ?? 0) > MAX_GATEWAY_RPC_BYTES) return answer(c, { ok: false, code: 'bad-request', error: 'body too large' }, 413);
    const body = await c.req.text();
    if (body.length > MAX_GATEWAY_RPC_BYTES) return answer(c, { ok: false, code: 'bad-request', error: 'body too large' }, 413);
    let refused: string | null;
    try {
      refused = await verify(o.secret, { method: 'POST', path: GATEWAY_RPC_PATH, body, header: (n) => c.req.header(n) }, { self, nonces });
    } catch {
      return answer(c, { ok: false, code: 'unavailable', error: `region ${o.region}'s store cannot be reached right now; try again` }, 503);
    }
    if (refused) {
      o.log.warn({ refused }, 'gateway call refused');
      return answer(c, { ok: false, code: 'refused', error: `gateway call refused: ${refused}` }, 401);
    }
    let call: GatewayCall;
    try {
      call = GatewayCall.parse(JSON.parse(body));
    } catch (err) {
      return answer(c, { ok: false, code: 'bad-request', error: `malformed call: ${String(err).slice(0, 200)}` }, 400);
    }
    const elsewhere = misaddressed(call, o.region);
    if (elsewhere) return answer(c, { ok: false, code: 'bad-request', error: `this is region ${o.region}; the call is for region ${elsewhere}` }, 400);
    try {
      return answer(c, { ok: true, result: (await run(o, call)) ?? null });
    } catch (err) {
      const error = (err as Error).message ?? String(err);
      if (err instanceof ServiceUnavailableError) return answer(c, { ok: false, code: 'unavailable', error }, 503);
      return answer(c, { ok: false, code: 'failed', error }, 500);
    }
  });
  return app;
}

function run(o: GatewayRpcOptions, call: GatewayCall): Promise<unknown> {
  switch (call.op) {
    case 'start':
      return o.gateway.start(call.request);
    case 'command':
      return o.gateway.command(call.taskId, call.command);
    case 'describe':
      return o.gateway.describe(call.taskId);
    case 'listTasks':
      return o.gateway.listTasks(call.query);
    case 'describeRecorders':
      return o.gateway.describeRecorders();
    case 'health':
      return o.gateway.health();
    case 'firstUse':
      return storeCall(() => o.seen.firstUse(call.id, call.ttlMs));
    case 'take':
      return storeCall(() => o.limiter(call.perSecond, call.burst).take(call.client));
  }
}

/** The store's own failures are the region being unavailable, as for the gateway's calls. */
async function storeCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw new ServiceUnavailableError(`the store cannot be reached right now; try again (${String(err).slice(0, 100)})`);
  }
}

/** The region a call names when it is not this one, or null. */
function misaddressed(call: GatewayCall, region: string): string | null {
  const named = call.op === 'start' ? call.request.Region : call.op === 'command' || call.op === 'describe' ? regionOf(call.taskId) : null;
  return named && named !== region ? named : null;
}
