// A table of bad requests through HTTP against the running service: each gets the documented error,
// nothing is created, and the service stays healthy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { type RunningService, startService } from '../helpers/service.js';

let redis: TestRedis;
let svc: RunningService;
// Traps on loopback: a Start the URL policy refuses must not make anything connect to them.
const trapped: string[] = [];
const traps: Server[] = [];
const trapPorts = { v4: 0, v6: 0 };

before(async () => {
  redis = await startTestRedis();
  // The URL policy as it is out of the box: no allow-list.
  svc = await startService({ REDIS_URL: redis.url, RECORDER_SLOTS: '1', URL_ALLOWLIST: '' });
  for (const [family, host] of [
    ['v4', '127.0.0.1'],
    ['v6', '::1'],
  ] as const) {
    const trap = createServer((socket) => {
      trapped.push(`${host}:${socket.localPort}`);
      socket.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, host, r));
    trapPorts[family] = (trap.address() as AddressInfo).port;
    traps.push(trap);
  }
});
after(async () => {
  await svc?.stop();
  await redis?.stop();
  for (const t of traps) t.close();
});

const body = (action: unknown, data?: unknown) => JSON.stringify(data === undefined ? { Action: action } : { Action: action, Data: data });

type Case = { what: string; body: string | Uint8Array; headers?: Record<string, string>; path?: string; status?: number; code: string; message: RegExp };

const cases: Case[] = [
  { what: 'malformed JSON', body: '{"Action": "Start", ', code: 'InvalidParam', message: /^request body is not valid JSON$/ },
  { what: 'a JSON array', body: '[1,2]', code: 'InvalidParam', message: /^body must be a JSON object$/ },
  { what: 'a JSON string', body: '"Start"', code: 'InvalidParam', message: /^body must be a JSON object$/ },
  { what: 'no Action', body: '{}', code: 'InvalidParam', message: /^Action missing$/ },
  { what: 'an unknown Action', body: body('Delete', {}), code: 'InvalidParam', message: /^Action must be one of Start, Pause, Resume, Refresh, Stop, Describe, ListTasks, DescribeRecorders$/ },
  { what: 'Data not an object', body: body('Start', 'x'), code: 'InvalidParam', message: /^Data must be an object$/ },
  { what: 'Start without Data', body: body('Start'), code: 'InvalidParam', message: /^RecordURL missing$/ },
  { what: 'Start without RecordURL', body: body('Start', { Width: 1280 }), code: 'InvalidParam', message: /^RecordURL missing$/ },
  { what: 'a RecordURL that is not http', body: body('Start', { RecordURL: 'javascript:alert(1)' }), code: 'InvalidParam', message: /^Data\.RecordURL must be an http or https URL$/ },
  { what: 'Width over 2560', body: body('Start', { RecordURL: 'http://a.test', Width: 4096 }), code: 'InvalidParam', message: /^Data\.Width must be an integer in \[0, 2560\]$/ },
  { what: 'Height not a number', body: body('Start', { RecordURL: 'http://a.test', Height: { h: 1 } }), code: 'InvalidParam', message: /^Data\.Height must be an integer in \[0, 2560\]$/ },
  { what: 'MaxDurationLimit negative', body: body('Start', { RecordURL: 'http://a.test', MaxDurationLimit: -1 }), code: 'InvalidParam', message: /^Data\.MaxDurationLimit must be an integer/ },
  { what: 'an unknown Muxer', body: body('Start', { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'flv' } } }), code: 'InvalidParam', message: /Muxer must be "mp4" or "hls"/ },
  {
    what: 'EncryptKey without AuthUrl',
    body: body('Start', { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', EncryptKey: 'ab'.repeat(16) } } }),
    code: 'InvalidParam',
    message: /^AuthUrl missing/,
  },
  {
    what: 'COS output on a service without COS',
    body: body('Start', { RecordURL: 'http://a.test', Output: { Cos: { Bucket: 'b-1250000000' } } }),
    code: 'InvalidParam',
    message: /^Data\.Output\.Cos needs COS to be configured/,
  },
  {
    what: 'StorageType cos on a service without COS',
    body: body('Start', { RecordURL: 'http://a.test', StorageType: 'cos' }),
    code: 'InvalidParam',
    message: /^Data\.StorageType "cos" needs COS to be configured on this service/,
  },
  { what: 'Pause without TaskID', body: body('Pause', {}), code: 'InvalidParam', message: /^TaskID missing$/ },
  { what: 'Stop with a numeric TaskID', body: body('Stop', { TaskID: 42 }), code: 'InvalidParam', message: /^Data\.TaskID must be a string$/ },
  { what: 'Describe of an unknown task', body: body('Describe', { TaskID: 'no-such-task' }), code: 'TaskNotFound', message: /no-such-task/ },
  { what: 'Resume of an unknown task', body: body('Resume', { TaskID: 'no-such-task' }), code: 'TaskNotFound', message: /not found/ },
  { what: 'a text/plain body', body: body('Describe', { TaskID: 'x' }), headers: { 'content-type': 'text/plain' }, code: 'InvalidParam', message: /^Content-Type must be application\/json$/ },
  { what: 'a body over 64 KiB', body: body('Start', { RecordURL: 'http://a.test/' + 'x'.repeat(70_000) }), status: 413, code: 'RequestTooLarge', message: /over 65536 bytes/ },
  { what: 'the same at /record', path: '/record', body: body('Start', {}), code: 'InvalidParam', message: /^RecordURL missing$/ },
  { what: 'the same at /release/record', path: '/release/record', body: body('Start', {}), code: 'InvalidParam', message: /^RecordURL missing$/ },
  {
    what: 'an unknown path',
    path: '/release/records',
    body: body('Describe', { TaskID: 'x' }),
    status: 404,
    code: 'NotFound',
    message: /^no such endpoint: POST \/release\/records; POST to \/ or \/record/,
  },
  { what: 'a stage the original never had', path: '/staging/record', body: body('Describe', { TaskID: 'x' }), status: 404, code: 'NotFound', message: /^no such endpoint/ },
];

describe('bad requests through HTTP', () => {
  for (const c of cases) {
    it(`${c.what} → ${c.code}`, async () => {
      const { status, json } = await svc.post(c.body, c.headers, c.path);
      assert.equal(status, c.status ?? 200);
      assert.match(json.RequestID, /^[0-9a-f]{32}$/);
      assert.equal(json.ErrorCode, c.code);
      assert.match(json.ErrorMessage, c.message);
    });
  }

  it('changed nothing and left the service healthy', async () => {
    const r = redis.client();
    assert.deepEqual(await r.keys('wr:*:task:*'), [], 'no task was created');
    const health = await fetch(`${svc.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(svc.child.exitCode, null);
    assert.match(readFileSync(svc.logFile, 'utf8'), /no API keys are configured \(API_KEYS, API_KEYS_FILE\): the API is OPEN/, 'open mode says so at start-up');
  });

  it('answers a good request at every mount point, with a RequestID each', async () => {
    const ids = new Set<string>();
    for (const path of ['/', '/record', '/release/record', '/test/record', '/prepub/record', '/record/']) {
      const { status, json } = await svc.post(body('Describe', { TaskID: 'x' }), {}, path);
      assert.equal(status, 200, path);
      assert.equal(json.ErrorCode, 'TaskNotFound', path);
      ids.add(json.RequestID);
    }
    assert.equal(ids.size, 6);
  });

  it('another method on the endpoint → 405 JSON with a RequestID; a GET of an unknown page → 404 JSON', async () => {
    for (const [method, path, status, code] of [
      ['GET', '/', 405, 'MethodNotAllowed'],
      ['PUT', '/release/record', 405, 'MethodNotAllowed'],
      ['GET', '/console-that-is-not-here', 404, 'NotFound'],
    ] as const) {
      const res = await fetch(svc.url + path, { method });
      assert.equal(res.status, status, `${method} ${path}`);
      const json = (await res.json()) as { ErrorCode: string; RequestID: string };
      assert.equal(json.ErrorCode, code);
      assert.match(json.RequestID, /^[0-9a-f]{32}$/);
    }
  });

  it('RecordId makes Start idempotent: the second Start returns the first TaskID with TaskExist', async () => {
    const data = { RecordURL: 'http://never.invalid/', ManualStart: true, RecordId: `rid-${Date.now()}` };
    const first = await svc.api('Start', data);
    assert.match(first.TaskID, /^default-[0-9a-f-]{36}$/);
    assert.equal(first.ErrorCode, undefined);
    const second = await svc.api('Start', data);
    assert.equal(second.TaskID, first.TaskID);
    assert.equal(second.ErrorCode, 'TaskExist');
    assert.equal((await svc.api('Stop', { TaskID: first.TaskID })).ErrorCode, undefined);
  });

  it('RecordURL or CallbackURL at an address outside the URL policy, in any notation → InvalidParam naming the field; nothing connects, nothing is created', async () => {
    const { v4, v6 } = trapPorts;
    const tasksBefore = (await redis.client().keys('wr:*:task:*')).length;
    const urls = [
      `http://127.0.0.1:${v4}/`,
      `http://localhost:${v4}/`,
      `http://[::1]:${v6}/`,
      `http://127.1:${v4}/`,
      `http://2130706433:${v4}/`,
      `http://0x7f000001:${v4}/`,
      `http://[::ffff:127.0.0.1]:${v4}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      'http://[fd00::1]/',
    ];
    for (const url of urls) {
      for (const field of ['RecordURL', 'CallbackURL'] as const) {
        const data = field === 'RecordURL' ? { RecordURL: url } : { RecordURL: 'https://example.com/', CallbackURL: url };
        const a = await svc.api('Start', data);
        assert.equal(a.ErrorCode, 'InvalidParam', `${field} ${url}`);
        assert.match(a.ErrorMessage, new RegExp(`^Data\\.${field} is outside the URL policy: .* is (a (loopback|link-local|private) address|this machine)`), `${field} ${url}: ${a.ErrorMessage}`);
        assert.equal(a.TaskID, undefined);
      }
    }
    assert.equal((await redis.client().keys('wr:*:task:*')).length, tasksBefore, 'no task was created');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(trapped, [], 'nothing connected to the traps');
  });
});
