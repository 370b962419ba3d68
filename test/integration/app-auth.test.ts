// Application authentication (API.md "Authentication") and the endpoint's paths, on two runtime hosts
// sharing a real Redis, over real HTTP. Requests are signed here by an implementation of our own,
// written from API.md's rules with node:crypto, independent of the service's (WebCrypto, @noble).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { WebRecordClient } from '../../client/index.js';
import { appAuth } from '../../edge/app-auth.js';
import { redisSeenSignatures } from '../../lib/seen-signatures.js';
import { parseApiKeys } from '../../protocol/api-keys.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { type RuntimeHost, startRuntimeHost } from '../helpers/runtime-host.js';

const OPS = { key: 'ops', secret: 'ops-secret-0123456789' };
const VIEWER = { key: 'viewer', secret: 'viewer-secret-0123' };
const KEYS = parseApiKeys(`${OPS.key}:${OPS.secret},${VIEWER.key}:${VIEWER.secret}:Describe`);
let redis: TestRedis;
let a: RuntimeHost;
let b: RuntimeHost;
let open: RuntimeHost;

function startHost(name: string, withAuth: boolean): Promise<RuntimeHost> {
  return startRuntimeHost({
    redisUrl: redis.url,
    name,
    region: `auth-test-${withAuth ? 'signed' : 'open'}`,
    leaseTtlMs: 5000,
    auth: withAuth ? (main) => appAuth({ keys: KEYS, seen: redisSeenSignatures(main) }) : undefined,
  });
}

type Sign = {
  key?: string;
  secret?: string;
  algorithm?: string;
  /** The HMAC actually used (to sign with another one than the header says). */
  hmac?: string;
  headers?: string[];
  md5?: 'hex' | 'raw' | 'missing' | 'wrong';
  date?: Date;
  /** The path put into the string to sign (default: the request's, without the stage). */
  signedPath?: string;
};

/** Signs a POST of `body` to `path` by API.md's rules. */
function sign(path: string, body: string, o: Sign = {}): Record<string, string> {
  const headers: Record<string, string> = {
    'x-date': (o.date ?? new Date()).toUTCString(),
    source: `test-${crypto.randomUUID()}`,
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const digest = createHash('md5').update(body).digest();
  if (o.md5 !== 'missing') {
    headers['content-md5'] =
      o.md5 === 'raw' ? digest.toString('base64') : o.md5 === 'wrong' ? createHash('md5').update('other').digest('base64') : Buffer.from(digest.toString('hex')).toString('base64');
  }
  const signed = o.headers ?? ['x-date'];
  const [pathname, query] = path.split('?') as [string, string | undefined];
  const sortedQuery = query
    ? '?' +
      query
        .split('&')
        .map((kv) => kv.split('='))
        .sort((x, y) => (x[0]! < y[0]! ? -1 : 1))
        .map(([k, v]) => (v ? `${k}=${v}` : k))
        .join('&')
    : '';
  const toSign = [
    ...signed.map((h) => `${h}: ${headers[h] ?? ''}`),
    'POST',
    headers.accept,
    headers['content-type'],
    headers['content-md5'] ?? '',
    o.signedPath ?? pathname.replace(/^\/(release|test|prepub)\//, '/') + sortedQuery,
  ].join('\n');
  const alg = o.algorithm ?? 'hmac-sha1';
  const sig = createHmac((o.hmac ?? alg).replace('hmac-', ''), o.secret ?? OPS.secret)
    .update(toSign)
    .digest('base64');
  headers.authorization = `hmac id="${o.key ?? OPS.key}", algorithm="${alg}", headers="${signed.join(' ')}", signature="${sig}"`;
  return headers;
}

async function post(host: RuntimeHost, path: string, body: string, headers: Record<string, string>) {
  const res = await fetch(host.url + path, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, string> };
}

const describeBody = (taskId = 'no-such-task') => JSON.stringify({ Action: 'Describe', Data: { TaskID: taskId } });
const startBody = () => JSON.stringify({ Action: 'Start', Data: { RecordURL: 'http://127.0.0.1:9/never', RecordId: crypto.randomUUID() } });

async function taskCount(): Promise<number> {
  return (await redis.client().keys('wr:*:task:*')).length;
}

before(async () => {
  redis = await startTestRedis();
  a = await startHost('a', true);
  b = await startHost('b', true);
  open = await startHost('open', false);
});
after(async () => {
  for (const h of [a, b, open]) await h?.stop();
  await redis?.stop();
});

describe('application authentication', () => {
  const accepted: [string, string, Sign][] = [
    ['hmac-sha1, MD5 as base64 of the hex digest, headers "x-date", path /record', '/record', {}],
    ['hmac-sha256, MD5 as base64 of the raw digest, headers "x-date source", path /release/record', '/release/record', { algorithm: 'hmac-sha256', md5: 'raw', headers: ['x-date', 'source'] }],
    ['hmac-sha384 at /', '/', { algorithm: 'hmac-sha384' }],
    ['hmac-sha512 at /test/record', '/test/record', { algorithm: 'hmac-sha512', headers: ['source', 'x-date'] }],
    ['hmac-sha1 at /prepub/record with a query, sorted by key', '/prepub/record?b=2&a&c=3', {}],
  ];
  for (const [what, path, o] of accepted) {
    it(`accepts ${what}`, async () => {
      const body = describeBody();
      const r = await post(a, path, body, sign(path, body, o));
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.ErrorCode, 'TaskNotFound', 'authenticated, then answered');
    });
  }

  it('a signed Start creates a task; the same task is described through the other host', async () => {
    const before = await taskCount();
    const body = startBody();
    const started = await post(a, '/release/record', body, sign('/release/record', body));
    assert.equal(started.json.ErrorCode, undefined, JSON.stringify(started.json));
    assert.equal(await taskCount(), before + 1);
    const d = describeBody(started.json.TaskID);
    const described = await post(b, '/record', d, sign('/record', d, { key: VIEWER.key, secret: VIEWER.secret }));
    assert.equal(described.json.TaskID, started.json.TaskID);
    assert.equal(described.json.ErrorCode, undefined);
  });

  // Each case signs a fresh Start body (`b`) and sends it to /record unless it says otherwise.
  type Case = { headers: (b: string) => Record<string, string>; path?: string; sendOther?: boolean };
  const broken: [string, Case, RegExp][] = [
    ['no Authorization', { headers: () => ({ 'content-type': 'application/json' }) }, /^Authorization header missing$/],
    ['a malformed Authorization', { headers: (b) => ({ ...sign('/record', b), authorization: 'Basic b3BzOnNlY3JldA==' }) }, /^Authorization header malformed/],
    ['an unknown key', { headers: (b) => sign('/record', b, { key: 'intruder' }) }, /^unknown ApiAppKey "intruder"$/],
    ['a wrong secret', { headers: (b) => sign('/record', b, { secret: 'not-the-secret' }) }, /^signature does not match/],
    ['an unsupported algorithm', { headers: (b) => sign('/record', b, { algorithm: 'hmac-md5', hmac: 'md5' }) }, /^algorithm "hmac-md5" not supported/],
    ['a signature made with another algorithm than named', { headers: (b) => sign('/record', b, { algorithm: 'hmac-sha256', hmac: 'hmac-sha1' }) }, /^signature does not match/],
    ['signed headers without x-date', { headers: (b) => sign('/record', b, { headers: ['source'] }) }, /^the signed headers must include x-date$/],
    ['X-Date 901 s in the past', { headers: (b) => sign('/record', b, { date: new Date(Date.now() - 901_000) }) }, /^X-Date is 90\d s from the server's clock \(more than 900 s\)$/],
    ['X-Date 901 s in the future', { headers: (b) => sign('/record', b, { date: new Date(Date.now() + 901_000) }) }, /^X-Date is 90\d s from the server's clock/],
    ['the body changed after signing', { headers: (b) => sign('/record', b), sendOther: true }, /^Content-MD5 does not match the body$/],
    ['Content-MD5 missing', { headers: (b) => sign('/record', b, { md5: 'missing' }) }, /^Content-MD5 header missing$/],
    ['Content-MD5 of another body', { headers: (b) => sign('/record', b, { md5: 'wrong' }) }, /^Content-MD5 does not match the body$/],
    ['the stage signed as part of the path', { path: '/release/record', headers: (b) => sign('/release/record', b, { signedPath: '/release/record' }) }, /^signature does not match/],
    ['a key allowed Describe only, calling Start', { headers: (b) => sign('/record', b, { key: VIEWER.key, secret: VIEWER.secret }) }, /^ApiAppKey "viewer" may not call Start \(allowed: Describe\)$/],
  ];
  for (const [what, c, message] of broken) {
    it(`refuses ${what}: 401 AuthFailure naming the check, and nothing changes`, async () => {
      const before = await taskCount();
      const signed = startBody();
      const headers = c.headers(signed);
      const r = await post(a, c.path ?? '/record', c.sendOther ? startBody() : signed, headers);
      assert.equal(r.status, 401, JSON.stringify(r.json));
      assert.equal(r.json.ErrorCode, 'AuthFailure');
      assert.match(r.json.ErrorMessage ?? '', message);
      assert.match(r.json.RequestID ?? '', /^[0-9a-f]{32}$/);
      for (const secret of [OPS.secret, VIEWER.secret]) assert.ok(!JSON.stringify(r.json).includes(secret), 'never echoes a secret');
      assert.equal(await taskCount(), before, 'no task was created');
    });
  }

  it('refuses a replayed signature, at the same host and at another host', async () => {
    const body = startBody();
    const headers = sign('/record', body);
    const first = await post(a, '/record', body, headers);
    assert.equal(first.json.ErrorCode, undefined, JSON.stringify(first.json));
    const count = await taskCount();
    for (const host of [a, b]) {
      const again = await post(host, '/record', body, headers);
      assert.equal(again.status, 401);
      assert.equal(again.json.ErrorCode, 'AuthFailure');
      assert.match(again.json.ErrorMessage ?? '', /^signature already used \(a replay\)/);
    }
    assert.equal(await taskCount(), count, 'the replay created nothing');
    // Kept in Redis only for the clock window.
    const ttl = await redis.client().pttl((await redis.client().keys('wr:seen-sig:*'))[0]!);
    assert.ok(ttl > 0 && ttl <= 902_000, `kept ${ttl} ms`);
  });

  it('our client signs like the original: accepted at every path, and two identical calls in one second both pass', async () => {
    for (const path of ['/record', '/release/record', '/']) {
      const client = new WebRecordClient({ url: a.url, path, credentials: OPS });
      const { TaskID } = await client.start({ RecordURL: 'http://127.0.0.1:9/never' });
      const [x, y] = await Promise.all([client.describe(TaskID), client.describe(TaskID)]);
      assert.equal(x.TaskID, TaskID);
      assert.equal(y.TaskID, TaskID);
    }
    for (const algorithm of ['hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const) {
      const client = new WebRecordClient({ url: b.url, credentials: { ...OPS, algorithm } });
      await assert.rejects(client.describe('none'), /TaskNotFound/);
    }
  });

  it('open mode (no keys) takes unsigned requests', async () => {
    const r = await post(open, '/record', describeBody(), { 'content-type': 'application/json' });
    assert.equal(r.status, 200);
    assert.equal(r.json.ErrorCode, 'TaskNotFound');
  });
});

describe('paths and methods', () => {
  const cases: [string, string, number, string][] = [
    ['GET', '/', 405, 'MethodNotAllowed'],
    ['PUT', '/record', 405, 'MethodNotAllowed'],
    ['DELETE', '/release/record', 405, 'MethodNotAllowed'],
    ['POST', '/nope', 404, 'NotFound'],
    ['POST', '/staging/record', 404, 'NotFound'],
    ['GET', '/favicon.ico', 404, 'NotFound'],
    ['GET', '/files/no-such-task/index.m3u8', 404, 'NotFound'],
  ];
  for (const [method, path, status, code] of cases) {
    it(`${method} ${path} → ${status} JSON with a RequestID`, async () => {
      const res = await fetch(open.url + path, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
      assert.equal(res.status, status);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const json = (await res.json()) as Record<string, string>;
      assert.equal(json.ErrorCode, code);
      assert.match(json.RequestID ?? '', /^[0-9a-f]{32}$/);
      if (status === 405) assert.equal(res.headers.get('allow'), 'POST');
    });
  }

  it('every endpoint path answers, a trailing slash too', async () => {
    for (const path of ['/', '/record', '/record/', '/release/record', '/release/record/', '/test/record', '/prepub/record']) {
      const r = await post(open, path, describeBody(), { 'content-type': 'application/json' });
      assert.equal(r.status, 200, path);
      assert.equal(r.json.ErrorCode, 'TaskNotFound', path);
    }
  });
});
