// The console's edge side, in-process: ListTasks and DescribeRecorders are checked like every Action
// (the field at fault named) and limited per key like the others; /console is served with its policy;
// the page's own signing (its MD5 and its signatures, run here as the browser would run the module)
// is taken by the service's authentication.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { signedHeaders as clientSigned } from '../../client/index.js';
import { createEdgeApp } from '../../edge/app.js';
import { appAuth } from '../../edge/app-auth.js';
import { SIGN_SCRIPT } from '../../edge/console/sign-script.js';
import { parseApiKeys } from '../../protocol/api-keys.js';
import type { TaskGateway } from '../../protocol/gateway.js';
import type { TaskQuery } from '../../protocol/listing.js';

type Signer = {
  md5(bytes: Uint8Array): Uint8Array;
  signedHeaders(creds: { key: string; secret: string }, path: string, body: string): Promise<Record<string, string>>;
};
const page = (await import(`data:text/javascript;base64,${Buffer.from(SIGN_SCRIPT).toString('base64')}`)) as Signer;

const asked: TaskQuery[] = [];
const gateway: TaskGateway = {
  start: async () => ({ ok: true, TaskID: 't', existed: false }),
  command: async () => ({ ok: true }),
  describe: async () => null,
  listTasks: async (q) => (asked.push(q), [{ TaskID: 't1', Status: 'recording', CreateTime: 5, Progress: { RecordedSeconds: 3, FileSize: 10, Fps: null }, Result: { Videos: [] } }]),
  describeRecorders: async () => [],
  health: async () => ({ ok: true, detail: {} }),
};

const KEYS = parseApiKeys('ops:ops-secret-0123,viewer:viewer-secret-0123:Describe,lister:lister-secret-0123:Describe|ListTasks');
const seen = new Set<string>();
const signedApp = () => createEdgeApp({ gateway, auth: appAuth({ keys: KEYS, seen: { firstUse: async (id) => !seen.has(id) && !!seen.add(id) } }) });
const openApp = createEdgeApp({ gateway });

async function post(app: ReturnType<typeof createEdgeApp>, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await app.request('/', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('ListTasks and DescribeRecorders at the edge', () => {
  it('ListTasks takes Limit 1..100 (20 by default) and a status; anything else is InvalidParam naming the field', async () => {
    asked.length = 0;
    const ok = await post(openApp, { Action: 'ListTasks' });
    assert.equal(ok.status, 200);
    assert.deepEqual((ok.json.Tasks as unknown[]).length, 1);
    assert.match(String(ok.json.RequestID), /^[0-9a-f]{32}$/);
    await post(openApp, { Action: 'ListTasks', Data: { Limit: '100', Status: 'Recording' } });
    await post(openApp, { Action: 'ListTasks', Data: { Limit: 1, Status: null } });
    assert.deepEqual(asked, [{ limit: 20 }, { limit: 100, status: 'recording' }, { limit: 1 }], 'the defaults, and values as the original clients send them');
    for (const Limit of [0, 101, 2.5, 'ten', true]) {
      const bad = await post(openApp, { Action: 'ListTasks', Data: { Limit } });
      assert.deepEqual([bad.status, bad.json.ErrorCode, bad.json.ErrorMessage], [200, 'InvalidParam', 'Data.Limit must be an integer in [1, 100]'], `Limit ${JSON.stringify(Limit)}`);
    }
    const status = await post(openApp, { Action: 'ListTasks', Data: { Status: 'running' } });
    assert.equal(status.json.ErrorCode, 'InvalidParam');
    assert.match(String(status.json.ErrorMessage), /^Data\.Status must be "normal" or "recording" or /);
    assert.equal(asked.length, 3, 'nothing refused reached the gateway');
  });

  it('DescribeRecorders takes no fields and answers the list', async () => {
    const r = await post(openApp, { Action: 'DescribeRecorders' });
    assert.deepEqual([r.status, r.json.Recorders], [200, []]);
    const bad = await post(openApp, { Action: 'DescribeRecorders', Data: [] });
    assert.equal(bad.json.ErrorCode, 'InvalidParam');
  });

  it('a key limited to some Actions is refused the others, the new ones included', async () => {
    const app = signedApp();
    const as = async (key: string, secret: string, action: string) => {
      const body = JSON.stringify({ Action: action, Data: {} });
      return post(app, body, await clientSigned({ key, secret }, '/', body));
    };
    const viewer = await as('viewer', 'viewer-secret-0123', 'ListTasks');
    assert.deepEqual([viewer.status, viewer.json.ErrorCode, viewer.json.ErrorMessage], [401, 'AuthFailure', 'ApiAppKey "viewer" may not call ListTasks (allowed: Describe)']);
    assert.equal((await as('viewer', 'viewer-secret-0123', 'DescribeRecorders')).status, 401);
    assert.equal((await as('lister', 'lister-secret-0123', 'ListTasks')).status, 200);
    const lister = await as('lister', 'lister-secret-0123', 'DescribeRecorders');
    assert.equal(lister.json.ErrorMessage, 'ApiAppKey "lister" may not call DescribeRecorders (allowed: Describe, ListTasks)');
    assert.equal((await as('ops', 'ops-secret-0123', 'DescribeRecorders')).status, 200, 'a key without a list may call every Action');
    assert.throws(() => parseApiKeys('x:long-enough:ListTasks|Lists'), /unknown Action "Lists"/);
  });
});

describe('the console page', () => {
  it('is served at /console and /console/ with its scripts and style, under a policy that allows only this service (and where it publishes media)', async () => {
    const app = createEdgeApp({ gateway, console: { mediaOrigins: ['https://media.example.com/files/x', 'not a url'] } });
    for (const path of ['/console', '/console/']) {
      const res = await app.request(path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      assert.match(html, /<script type="module" src="\/console\/app\.js"><\/script>/);
      assert.doesNotMatch(html, /<script>|style="/, 'no inline script or style');
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self';/);
      assert.match(csp, /connect-src 'self' https:\/\/media\.example\.com;/, 'and reads the live playlist from there');
      assert.match(csp, /media-src 'self' blob: https:\/\/media\.example\.com;/);
      assert.match(csp, /form-action 'none'/, 'a form the script did not take is never sent (its fields would land in a URL)');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
    for (const [path, type] of [
      ['/console/app.js', /^text\/javascript/],
      ['/console/sign.js', /^text\/javascript/],
      ['/console/console.css', /^text\/css/],
    ] as const) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type);
    }
    assert.equal((await app.request('/console/other.js')).status, 404);
  });

  it("the page's MD5 is MD5, at every length around its block edges and for any text", () => {
    const md5 = (bytes: Uint8Array) => Buffer.from(page.md5(bytes)).toString('hex');
    for (let n = 0; n <= 200; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      assert.equal(md5(bytes), createHash('md5').update(bytes).digest('hex'), `${n} bytes`);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => md5(new TextEncoder().encode(s)) === createHash('md5').update(s).digest('hex')),
      { numRuns: 300 },
    );
  });

  it("the page's signatures are taken by the service's authentication; a wrong secret is refused by name", async () => {
    const app = signedApp();
    const body = JSON.stringify({ Action: 'ListTasks', Data: { Limit: 5, Status: 'recording' }, Note: 'ünïcødé ✓' });
    const ok = await post(app, body, await page.signedHeaders({ key: 'ops', secret: 'ops-secret-0123' }, '/', body));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    const twice = await Promise.all([1, 2].map(async () => post(app, body, await page.signedHeaders({ key: 'ops', secret: 'ops-secret-0123' }, '/', body))));
    assert.deepEqual(
      twice.map((r) => r.status),
      [200, 200],
      'two identical calls in one second differ by their nonce',
    );
    const wrong = await post(app, body, await page.signedHeaders({ key: 'ops', secret: 'not-the-secret' }, '/', body));
    assert.deepEqual([wrong.status, wrong.json.ErrorCode, wrong.json.ErrorMessage], [401, 'AuthFailure', 'signature does not match (check the ApiAppSecret and the string to sign)']);
    const unsigned = await post(app, body);
    assert.deepEqual([unsigned.status, unsigned.json.ErrorMessage], [401, 'Authorization header missing']);
  });
});
