// 10,000 generated requests through the real HTTP server (a runtime host on a real Redis), with
// authentication off and on: never a 5xx, always JSON with a RequestID, nothing stored by a refused
// request, and the service still answering afterwards.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { appAuth } from '../../edge/app-auth.js';
import { redisSeenSignatures } from '../../lib/seen-signatures.js';
import { parseApiKeys } from '../../protocol/api-keys.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { type RuntimeHost, startRuntimeHost } from '../helpers/runtime-host.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2500); // per mode: 5,000 in all (FUZZ_RUNS=50000 for a long hunt)
const KEY = { key: 'fuzz', secret: 'fuzz-secret-0123456789' };
let redis: TestRedis;
let open: RuntimeHost;
let signed: RuntimeHost;

before(async () => {
  redis = await startTestRedis();
  open = await startRuntimeHost({ redisUrl: redis.url, name: 'fuzz-open', region: 'fuzz', leaseTtlMs: 5000 });
  signed = await startRuntimeHost({
    redisUrl: redis.url,
    name: 'fuzz-signed',
    region: 'fuzz-signed',
    leaseTtlMs: 5000,
    auth: (main) => appAuth({ keys: parseApiKeys(`${KEY.key}:${KEY.secret}:Start|Describe|Stop`), seen: redisSeenSignatures(main) }),
  });
});
after(async () => {
  await open?.stop();
  await signed?.stop();
  await redis?.stop();
});

// ---- what is sent -----------------------------------------------------------------------------

const hostNotation = fc.constantFrom(
  '127.0.0.1',
  '127.1',
  '2130706433',
  '0x7f000001',
  '[::1]',
  '[::ffff:127.0.0.1]',
  '169.254.169.254',
  '10.0.0.1',
  '[fd00::1]',
  '0',
  'localhost',
  'example.com',
  'page.test',
  '8.8.8.8',
);
const url = fc.oneof(
  fc.tuple(fc.constantFrom('http', 'https', 'ftp', 'javascript', 'file'), hostNotation, fc.string({ maxLength: 20 })).map(([p, h, path]) => `${p}://${h}/${encodeURIComponent(path)}`),
  fc.webUrl(),
  fc.string({ maxLength: 40 }),
);
const scalar = fc.oneof(fc.string({ maxLength: 30 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.integer({ min: -5, max: 3000 }).map(String));
const anything = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }));
const video = fc.record(
  {
    Muxer: fc.oneof(fc.constantFrom('mp4', 'hls', 'flv'), anything),
    EncryptKey: fc.oneof(fc.string({ minLength: 10, maxLength: 40 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 32, maxLength: 32 }), anything),
    EncryptKeyFormat: fc.oneof(fc.constantFrom('text', 'hex', 'b64'), anything),
    AuthUrl: fc.oneof(url, anything),
  },
  { requiredKeys: [] },
);
const data = fc.record(
  {
    RecordURL: fc.oneof(url, url, anything),
    CallbackURL: fc.oneof(url, anything),
    Width: fc.oneof(fc.integer({ min: -10, max: 5000 }), anything),
    Height: fc.oneof(fc.integer({ min: -10, max: 5000 }), anything),
    ManualStart: fc.oneof(fc.boolean(), anything),
    MaxDurationLimit: fc.oneof(fc.integer({ min: -1, max: 40_000 }), anything),
    StorageType: fc.oneof(fc.constantFrom('cfs', 'cos'), anything),
    ReadyTimeout: fc.oneof(fc.integer({ min: -1, max: 100 }), anything),
    RecordId: fc.oneof(fc.string({ maxLength: 70 }), anything),
    TaskID: fc.oneof(fc.uuid(), fc.string({ maxLength: 140 }), anything),
    Output: fc.oneof(fc.record({ Video: video, Cos: fc.dictionary(fc.constantFrom('Bucket', 'Region', 'TargetDir', 'TargetName', 'Domain'), anything) }, { requiredKeys: [] }), anything),
  },
  { requiredKeys: [] },
);
// Starts that are mostly right, with now and then one field gone wrong: what reaches the inside.
const goodStart = fc
  .record(
    {
      RecordURL: fc.constantFrom('https://example.com/class', 'http://page.test/', 'http://127.0.0.1:9/local', 'https://[2606:4700::1111]/'),
      Width: fc.integer({ min: 0, max: 2560 }),
      Height: fc.integer({ min: 0, max: 2560 }),
      ManualStart: fc.boolean(),
      MaxDurationLimit: fc.integer({ min: 0, max: 36_000 }),
      // A name that never resolves, and a literal refused at Start: nothing is ever called.
      CallbackURL: fc.constantFrom('https://hooks.invalid/x', 'http://10.0.0.1/hook'),
      RecordId: fc.string({ minLength: 1, maxLength: 64 }),
      Output: fc.record({ Video: fc.record({ Muxer: fc.constantFrom('mp4', 'hls') }) }),
    },
    { requiredKeys: ['RecordURL'] },
  )
  .chain((d) => fc.oneof({ weight: 3, arbitrary: fc.constant(d) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...Object.keys(d)), anything).map(([k, v]) => ({ ...d, [k]: v })) }));
const action = fc.oneof(fc.constantFrom('Start', 'Start', 'Start', 'Describe', 'Stop', 'Pause', 'Resume', 'Refresh'), fc.string({ maxLength: 10 }), fc.constant(undefined));
const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ Action: action, Data: fc.oneof(data, data, anything) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)) },
  { weight: 3, arbitrary: goodStart.map((d) => JSON.stringify({ Action: 'Start', Data: d })) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
);
const path = fc.constantFrom('/', '/record', '/release/record', '/record/', '/nope', '/files/x');
const contentType = fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', '');

/** Signs as API.md says (most requests), or breaks the signature in one of several ways. */
function headersFor(sign: boolean, how: number, p: string, raw: string | Uint8Array, type: string): Record<string, string> {
  const headers: Record<string, string> = type ? { 'content-type': type } : {};
  if (!sign) return headers;
  const date = new Date(Date.now() + (how === 1 ? 1_000_000 : 0)).toUTCString();
  const source = `fuzz ${crypto.randomUUID()}`;
  const md5 = Buffer.from(createHash('md5').update(raw).digest('hex')).toString('base64');
  const toSign = [`x-date: ${date}`, `source: ${source}`, 'POST', 'application/json', type, md5, p.replace(/^\/release\//, '/')].join('\n');
  const sig = createHmac('sha1', how === 2 ? 'wrong-secret' : KEY.secret)
    .update(toSign)
    .digest('base64');
  Object.assign(headers, { accept: 'application/json', 'x-date': date, source, 'content-md5': md5 });
  if (how !== 3) headers.authorization = `hmac id="${KEY.key}", algorithm="hmac-sha1", headers="x-date source", signature="${sig}"`;
  return headers;
}

// ---- the property -----------------------------------------------------------------------------

async function fuzz(host: RuntimeHost, sign: boolean): Promise<{ created: number; statuses: Map<number, number> }> {
  let created = 0;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(body, path, contentType, fc.nat(9), async (raw, p, type, how) => {
      const res = await fetch(host.url + p, { method: 'POST', headers: headersFor(sign, how, p, raw, type), body: raw });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      assert.ok(res.status < 500, `HTTP ${res.status}`);
      const text = await res.text();
      const json = JSON.parse(text) as Record<string, unknown>;
      assert.match(String(json.RequestID), /^[0-9a-f]{32}$/, text);
      if (res.status === 200 && json.ErrorCode === undefined && typeof json.TaskID === 'string' && sentAction(raw) === 'Start') created++;
    }),
    { numRuns: RUNS },
  );
  return { created, statuses };
}

function sentAction(raw: string | Uint8Array): unknown {
  try {
    return (JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString()) as { Action?: unknown }).Action;
  } catch {
    return undefined;
  }
}

/** Tasks stored, both hosts (a test's own Redis: the scan is of the test's keys only). */
async function taskCount(): Promise<number> {
  return (await redis.client().keys('wr:*:task:*')).length;
}

describe('the HTTP API under generated requests', () => {
  it(`${RUNS} requests, authentication off then on: never a 5xx, always JSON with a RequestID; only accepted Starts stored; still serving`, async () => {
    const before = await taskCount();
    const off = await fuzz(open, false);
    const on = await fuzz(signed, true);
    const after = await taskCount();
    assert.equal(after - before, off.created + on.created, 'a task for each accepted Start, none for a refused request');
    assert.ok((on.statuses.get(401) ?? 0) > 0, `some signed requests were refused (${JSON.stringify([...on.statuses])})`);
    assert.ok(off.created + on.created > 0, 'some Starts were accepted (the generator reaches the inside)');
    for (const host of [open, signed]) {
      const health = await fetch(`${host.url}/healthz`);
      assert.equal(health.status, 200);
    }
    const describe = await fetch(`${open.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Action: 'Describe', Data: { TaskID: 'x' } }) });
    assert.equal(((await describe.json()) as { ErrorCode: string }).ErrorCode, 'TaskNotFound');
  });
});
