// The receiving end of the internal RPC, mounted by the Node adapter beside the API. Nothing runs
// before the signature is checked (see protocol/rpc-signature.ts for what is refused).
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NonceCache, verify } from '../../protocol/rpc-signature.js';
import { ActorCall, type ActorCallAnswer, ActorUnavailable, BadCall, Leaving, MAX_RPC_BYTES, RPC_PATH } from './messages.js';

export function createRpcApp(o: { self: string; secret: string | null; handle(call: ActorCall): Promise<unknown>; log: { warn(obj: object, msg: string): void } }): Hono {
  const app = new Hono();
  const nonces = new NonceCache();
  const answer = (c: { json(b: unknown, s: ContentfulStatusCode): Response }, body: ActorCallAnswer, status: ContentfulStatusCode) => c.json(body, status);

  app.post(RPC_PATH, async (c) => {
    if (!o.secret) return answer(c, { ok: false, code: 'failed', error: 'this host has no CLUSTER_SECRET and takes no internal calls' }, 403);
    const length = Number(c.req.header('content-length') ?? 0);
    if (length > MAX_RPC_BYTES) return answer(c, { ok: false, code: 'bad-request', error: 'body too large' }, 413);
    const body = await c.req.text();
    if (body.length > MAX_RPC_BYTES) return answer(c, { ok: false, code: 'bad-request', error: 'body too large' }, 413);
    const refused = await verify(o.secret, { method: 'POST', path: RPC_PATH, body, header: (n) => c.req.header(n) }, { self: o.self, nonces });
    if (refused) {
      o.log.warn({ refused, from: c.req.header('x-forwarded-for') ?? null }, 'internal call refused');
      return answer(c, { ok: false, code: 'failed', error: `internal call refused: ${refused}` }, 401);
    }
    let call: ActorCall;
    try {
      call = ActorCall.parse(JSON.parse(body));
    } catch (err) {
      return answer(c, { ok: false, code: 'bad-request', error: `malformed call: ${String(err).slice(0, 200)}` }, 400);
    }
    try {
      return answer(c, { ok: true, result: (await o.handle(call)) ?? null }, 200);
    } catch (err) {
      const error = (err as Error).message ?? String(err);
      if (err instanceof Leaving) return answer(c, { ok: false, code: 'leaving', error }, 503);
      if (err instanceof ActorUnavailable) return answer(c, { ok: false, code: 'unavailable', error }, 503);
      if (err instanceof BadCall) return answer(c, { ok: false, code: 'bad-request', error }, 400);
      return answer(c, { ok: false, code: 'failed', error }, 500);
    }
  });
  return app;
}
