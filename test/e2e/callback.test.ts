// The finished-task webhook: the Describe answer, signed; retried on failure, then CallbackFailed.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../lib/net.js';
import { type RunningService, startService } from '../helpers/service.js';

const SECRET = 'test-callback-secret-0123456789';
let svc: RunningService;
let hook: Server;
let hookUrl: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];
let trap: NetServer;
let redirector: Server;
const trapped: string[] = [];

before(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(req.url === '/fail' ? 503 : 204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  trap = createNetServer((socket) => {
    trapped.push(String(socket.localPort));
    socket.destroy();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.3', r));
  redirector = createServer((req, res) => {
    req.resume();
    res.writeHead(302, { location: `http://127.0.0.3:${(trap.address() as AddressInfo).port}/` }).end();
  });
  await new Promise<void>((r) => redirector.listen(0, '127.0.0.2', r));
  // The hooks are on 127.0.0.1 and 127.0.0.2; 127.0.0.3 stays outside the URL policy.
  svc = await startService({ URL_ALLOWLIST: '127.0.0.1,127.0.0.2', CALLBACK_SECRET: SECRET, CALLBACK_FIRST_RETRY_MS: '200', CALLBACK_MAX_TRIES: '5', CALLBACK_TIMEOUT_MS: '2000' });
});
after(async () => {
  await svc?.stop();
  await new Promise((r) => hook.close(r));
  trap?.close();
  redirector?.close();
});

describe('callback', () => {
  it('POSTs the finished Describe answer with a valid signature', async () => {
    // A page that cannot load ends the task quickly, which is all this test needs.
    const id = (await svc.api('Start', { RecordURL: `http://127.0.0.1:${await freePort()}/`, CallbackURL: `${hookUrl}/ok` })).TaskID as string;
    const task = await svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'PageLoadFailed', 'the callback succeeded, so the task keeps its own error');
    const got = received.filter((r) => JSON.parse(r.body).TaskID === id);
    assert.equal(got.length, 1);
    const { headers, body } = got[0]!;
    assert.equal(headers['x-webrecord-event'], 'finished');
    assert.equal(headers['x-webrecord-delivery'], `${id}.finished`);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-webrecord-signature'])) ?? [];
    assert.ok(t && v1, 'signature header present');
    assert.equal(v1, createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex'));
    const sent = JSON.parse(body);
    assert.equal(sent.Status, 'finished');
    assert.equal(sent.RequestID, undefined);
    const { RequestID: _, ...described } = task;
    assert.deepEqual(sent, described);
  });

  it('retries a failing receiver, then ends with CallbackFailed', async () => {
    const id = (await svc.api('Start', { RecordURL: `http://127.0.0.1:${await freePort()}/`, CallbackURL: `${hookUrl}/fail` })).TaskID as string;
    assert.equal((await svc.waitForStatus(id, ['callback', 'finished'], 30_000)).Status, 'callback');
    const task = await svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'CallbackFailed');
    assert.equal(task.Result.ErrorMessage, 'Callback failed even all tries. last error message:HTTP 503 Service Unavailable');
    const tries = received.filter((r) => JSON.parse(r.body).TaskID === id);
    assert.equal(tries.length, 5);
    assert.equal(new Set(tries.map((r) => r.headers['x-webrecord-delivery'])).size, 1, 'one delivery id for the series');
  });

  it('a receiver that redirects, even to an address the policy would refuse: not followed, CallbackFailed', async () => {
    const to = `http://127.0.0.2:${(redirector.address() as AddressInfo).port}/hook`;
    const id = (await svc.api('Start', { RecordURL: `http://127.0.0.1:${await freePort()}/`, CallbackURL: to })).TaskID as string;
    const task = await svc.waitForStatus(id, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'CallbackFailed');
    assert.equal(task.Result.ErrorMessage, 'Callback failed even all tries. last error message:HTTP 302 Found');
    assert.deepEqual(trapped, [], 'the redirect target saw no connection');
  });
});
