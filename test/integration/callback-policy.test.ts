// The callback connects only within the URL policy — checked on the addresses of the connection it
// opens — and follows no redirect. Every server here is on loopback; the traps count connections.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PolicyBlocked, resolveChecked } from '../../lib/guarded-lookup.js';
import { DEFAULT_POLICY, parseAllowlist } from '../../protocol/url-policy.js';
import { CallbackSender, type CallbackEffect } from '../../tasks/callback-sender.js';

const SECRET = 'callback-policy-test-secret-0123';
const trapped: string[] = [];
let trap: NetServer;
let trapPort: number;
let hook: Server;
let hookPort: number;
const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];

const effect = (url: string): CallbackEffect => ({
  type: 'deliverCallback',
  url,
  tryNumber: 1,
  deliveryId: 't1.finished',
  body: { TaskID: 't1', Status: 'finished', CreateTime: 1, Result: { Videos: [] } } as never,
});

before(async () => {
  trap = createServer((socket) => {
    trapped.push(`${socket.localAddress}:${socket.localPort}`);
    socket.destroy();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.3', r));
  trapPort = (trap.address() as AddressInfo).port;
  hook = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
      if (req.url === '/redirect') return void res.writeHead(302, { location: `http://127.0.0.3:${trapPort}/` }).end();
      if (req.url === '/slow') return void setTimeout(() => res.writeHead(204).end(), 3000);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.2', r));
  hookPort = (hook.address() as AddressInfo).port;
});
after(() => {
  trap.close();
  hook.closeAllConnections();
  hook.close();
});

describe('callback under the URL policy', () => {
  const allowHook = () => parseAllowlist('127.0.0.2');

  it('delivers to an allowed receiver, signed', async () => {
    const r = await new CallbackSender(SECRET, 2000, allowHook()).deliver(effect(`http://127.0.0.2:${hookPort}/ok`));
    assert.deepEqual(r, { ok: true });
    const got = received.find((x) => x.url === '/ok')!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(got.headers['x-webrecord-signature']))!;
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${got.body}`).digest('hex'));
  });

  it('an address outside the policy is refused before connecting, with the reason', async () => {
    const r = await new CallbackSender(SECRET, 2000, allowHook()).deliver(effect(`http://127.0.0.3:${trapPort}/`));
    assert.deepEqual(r, { ok: false, error: 'blocked by the URL policy: 127.0.0.3 is a loopback address' });
    const r2 = await new CallbackSender(SECRET, 2000, allowHook()).deliver(effect(`http://2130706435:${trapPort}/`));
    assert.deepEqual(r2, { ok: false, error: 'blocked by the URL policy: 127.0.0.3 is a loopback address' });
    assert.deepEqual(trapped, []);
  });

  it('a name is judged by what it resolves to, at the connection', async () => {
    const r = await new CallbackSender(SECRET, 2000, DEFAULT_POLICY).deliver(effect(`http://localhost:${trapPort}/`));
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /^blocked by the URL policy: localhost resolves to 127\.0\.0\.1 is a loopback address$/);
    await assert.rejects(resolveChecked(DEFAULT_POLICY, 'localhost', 80), (e: unknown) => e instanceof PolicyBlocked);
    assert.deepEqual(trapped, []);
  });

  it('a redirect is not followed, not even to an address inside the allow-list', async () => {
    const r = await new CallbackSender(SECRET, 2000, parseAllowlist('127.0.0.2,127.0.0.3')).deliver(effect(`http://127.0.0.2:${hookPort}/redirect`));
    assert.deepEqual(r, { ok: false, error: 'HTTP 302 Found' });
    await new Promise((res) => setTimeout(res, 300));
    assert.deepEqual(trapped, [], 'the redirect target saw no connection');
  });

  it('a receiver that does not answer in time is a timeout', async () => {
    const r = await new CallbackSender(SECRET, 500, allowHook()).deliver(effect(`http://127.0.0.2:${hookPort}/slow`));
    assert.deepEqual(r, { ok: false, error: 'timeout of 500ms exceeded' });
  });
});
