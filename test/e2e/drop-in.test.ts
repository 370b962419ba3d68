// Drop-in for the original product's clients: HTTPS with a certificate, API keys, the gateway's path
// (/release/record), and a whole recording driven through the project's own client, whose callback
// signature the client verifies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyCallback, WebRecordClient } from '../../client/index.js';
import { analyse, decodeErrors } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { scratchDir } from '../helpers/scratch.js';
import { makeSelfSignedCert, type TestCert } from '../helpers/tls.js';
import { sleep, waitFor } from '../helpers/wait.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const OPS = { key: 'ops', secret: 'ops-secret-for-the-drop-in-test' };
const VIEWER = { key: 'viewer', secret: 'viewer-secret-0123' };
const CALLBACK_SECRET = 'drop-in-callback-secret-0123456789';
let svc: RunningService;
let pages: PageServer;
let cert: TestCert;
let hook: Server;
let hookUrl: string;
const received: { headers: IncomingMessage['headers']; body: string }[] = [];

before(async () => {
  pages = await startPageServer();
  cert = makeSelfSignedCert('drop-in');
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  svc = await startService(
    {
      API_KEYS: `${OPS.key}:${OPS.secret},${VIEWER.key}:${VIEWER.secret}:Describe`,
      TLS_CERT_FILE: cert.certFile,
      TLS_KEY_FILE: cert.keyFile,
      CALLBACK_SECRET,
    },
    { ca: cert.cert, path: '/release/record' },
  );
});
after(async () => {
  await svc?.stop();
  await pages?.close();
  await new Promise((r) => hook?.close(r));
});

describe('drop-in for the original product', () => {
  it('over HTTPS with a self-signed certificate: a whole recording through the client at /release/record, its callback verified', async () => {
    assert.match(svc.url, /^https:/);
    assert.match(readFileSync(svc.logFile, 'utf8'), /"keys":\["ops","viewer"\],"msg":"API requests must be signed/, 'start-up names the keys, never their secrets');
    assert.ok(!readFileSync(svc.logFile, 'utf8').includes(OPS.secret));
    const client = svc.client;
    const { TaskID, existed } = await client.start({ RecordURL: pages.url('counter.html'), CallbackURL: hookUrl, Width: 960, Height: 540 });
    assert.equal(existed, false);
    await client.waitFor(TaskID, 'recording', { timeoutMs: 30_000, intervalMs: 200 });
    const recordingAt = Date.now();
    await sleep(3000);
    const pauseAt = Date.now();
    await client.pause(TaskID);
    assert.equal((await client.describe(TaskID)).Status, 'paused');
    await sleep(1500);
    await client.resume(TaskID);
    const resumedAt = Date.now();
    await sleep(3000);
    const stopAt = Date.now();
    await client.stop(TaskID);
    const task = await client.waitFor(TaskID, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const [video] = task.Result.Videos;
    assert.ok(video);
    assert.match(video.FileURL, /^https:\/\/127\.0\.0\.1:\d+\/files\//, 'FileURL is on HTTPS too');

    const res = await svc.fetch(video.FileURL);
    assert.equal(res.status, 200);
    const file = join(svc.dataDir, `${TaskID}.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assert.equal(await decodeErrors(file), '');
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.deepEqual([a.info.video?.width, a.info.video?.height], [960, 540]);
    assert.equal(a.info.audio?.codec, 'aac');
    const want = (pauseAt - recordingAt + stopAt - resumedAt) / 1000;
    assert.ok(Math.abs(a.info.duration - want) <= 0.6, `duration ${a.info.duration} s, want ${want.toFixed(2)} (the pause is not in it)`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
    assert.ok(a.meanVolumeDb > -40, `audible (mean ${a.meanVolumeDb} dB)`);

    await waitFor(() => received.some((r) => r.body.includes(TaskID)), { timeoutMs: 10_000, what: 'the callback' });
    const hit = received.find((r) => r.body.includes(TaskID))!;
    const signature = String(hit.headers['x-webrecord-signature']);
    assert.equal(await verifyCallback(CALLBACK_SECRET, signature, hit.body), true, 'the client verifies our callback');
    assert.equal(await verifyCallback(CALLBACK_SECRET, signature, hit.body.replace('finished', 'finishes')), false, 'a changed body is refused');
    assert.equal(await verifyCallback('another-secret-0123456789', signature, hit.body), false, 'another secret is refused');
    assert.equal(await verifyCallback(CALLBACK_SECRET, signature, hit.body, { now: Date.now() + 3_600_000 }), false, 'an old signature is refused');
  });

  it('without a key, with a wrong secret, or with a key not allowed the Action: 401 AuthFailure over HTTPS', async () => {
    const unsigned = await svc.post(JSON.stringify({ Action: 'Describe', Data: { TaskID: 'x' } }), {}, '/release/record');
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.ErrorCode, 'AuthFailure');
    assert.equal(unsigned.json.ErrorMessage, 'Authorization header missing');

    const wrong = new WebRecordClient({ url: svc.url, path: '/release/record', credentials: { key: OPS.key, secret: 'not-the-secret' }, fetch: svc.fetch });
    const refused = await wrong.call('Describe', { TaskID: 'x' });
    assert.equal(refused.status, 401);
    assert.match(refused.answer.ErrorMessage ?? '', /^signature does not match/);

    const viewer = new WebRecordClient({ url: svc.url, path: '/record', credentials: VIEWER, fetch: svc.fetch });
    await assert.rejects(viewer.describe('no-such-task'), /TaskNotFound/, 'the viewer may Describe');
    const stop = await viewer.call('Stop', { TaskID: 'no-such-task' });
    assert.equal(stop.status, 401);
    assert.equal(stop.answer.ErrorMessage, 'ApiAppKey "viewer" may not call Stop (allowed: Describe)');
  });

  it('a certificate file that cannot be read stops start-up with one line naming the setting', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: ROOT,
      env: { ...process.env, TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: cert.keyFile, DATA_DIR: scratchDir('bad-tls') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'webrecord: setting TLS_CERT_FILE names a file that cannot be read (ENOENT: "/nonexistent/cert.pem")\n');
  });
});
