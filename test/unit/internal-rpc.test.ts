// The internal RPC between hosts: what a receiver refuses (unsigned, another key, stale, tampered,
// meant for another host, replayed) before anything runs, and how answers tell a caller to go on to
// the next owner. In-process (Hono's app.request), no sockets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../lib/logger.js';
import { NonceCache, RPC_HEADERS, rpcHeaders, verify } from '../../protocol/rpc-signature.js';
import { type ActorCall, ActorUnavailable, Leaving, RPC_PATH } from '../../wrangler-free-runtime/rpc/messages.js';
import { createRpcApp } from '../../wrangler-free-runtime/rpc/server.js';

const SECRET = 'secret-of-the-test-cluster';
const call: ActorCall = { op: 'send', id: 't1', payload: { kind: 'alarm' }, hops: 1, unreachable: [] };

async function check(headers: Record<string, string>, body: string, o: { self?: string; nonces?: NonceCache; now?: number; secret?: string } = {}) {
  return verify(o.secret ?? SECRET, { method: 'POST', path: RPC_PATH, body, header: (n) => headers[n] }, { self: o.self ?? 'host-b', nonces: o.nonces ?? new NonceCache(), now: o.now });
}

describe('internal RPC signatures', () => {
  const body = JSON.stringify(call);

  it('an authentic, fresh call meant for this host passes once', async () => {
    const headers = await rpcHeaders(SECRET, 'POST', RPC_PATH, body, 'host-b');
    const nonces = new NonceCache();
    assert.equal(await check(headers, body, { nonces }), null);
    assert.equal(await check(headers, body, { nonces }), 'replayed');
  });

  it('refuses what is unsigned, signed with another key, stale, tampered or meant for another host', async () => {
    const headers = await rpcHeaders(SECRET, 'POST', RPC_PATH, body, 'host-b');
    const without = { ...headers };
    delete without[RPC_HEADERS.signature];
    assert.equal(await check(without, body), 'unsigned');
    assert.equal(await check(headers, body, { secret: 'another-secret-of-a-cluster' }), 'bad signature');
    assert.equal(await check(headers, body.replace('alarm', 'Alarm')), 'bad signature');
    assert.equal(await check({ ...headers, [RPC_HEADERS.to]: 'host-c' }, body, { self: 'host-c' }), 'bad signature', 'the target is signed');
    assert.equal(await check(headers, body, { self: 'host-c' }), 'meant for host host-b');
    assert.equal(await check(headers, body, { now: Date.now() + 31_000 }), 'stale');
    assert.equal(await check({ ...headers, [RPC_HEADERS.time]: String(Date.now() + 60_000) }, body), 'stale');
  });
});

describe('internal RPC endpoint', () => {
  const log = createLogger('silent');
  const ran: ActorCall[] = [];
  const app = createRpcApp({
    self: 'host-b',
    secret: SECRET,
    log,
    handle: async (c) => {
      ran.push(c);
      if (c.id === 'leaving') throw new Leaving('stopping');
      if (c.id === 'busy') throw new ActorUnavailable('held by a dead host');
      return { ok: true };
    },
  });
  const post = async (c: unknown, headers?: Record<string, string>) => {
    const body = JSON.stringify(c);
    const res = await app.request(RPC_PATH, { method: 'POST', body, headers: headers ?? { 'content-type': 'application/json', ...(await rpcHeaders(SECRET, 'POST', RPC_PATH, body, 'host-b')) } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('runs a signed call and answers its result', async () => {
    assert.deepEqual(await post(call), { status: 200, json: { ok: true, result: { ok: true } } });
  });

  it('refuses an unsigned call with 401 and runs nothing', async () => {
    const before = ran.length;
    const r = await post(call, { 'content-type': 'application/json' });
    assert.equal(r.status, 401);
    assert.match(String(r.json.error), /refused: unsigned/);
    assert.equal(ran.length, before);
  });

  it('tells the caller to go on (leaving), or that the task is not available now, or that the call is malformed', async () => {
    assert.deepEqual((await post({ ...call, id: 'leaving' })).json.code, 'leaving');
    const busy = await post({ ...call, id: 'busy' });
    assert.equal(busy.status, 503);
    assert.equal(busy.json.code, 'unavailable');
    const bad = await post({ ...call, hops: -1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'bad-request');
  });

  it('a host without CLUSTER_SECRET takes no internal calls at all', async () => {
    const alone = createRpcApp({ self: 'host-x', secret: null, log, handle: async () => assert.fail('must not run') });
    const res = await alone.request(RPC_PATH, { method: 'POST', body: JSON.stringify(call), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 403);
  });
});
