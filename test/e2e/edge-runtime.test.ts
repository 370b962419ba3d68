// The edge bundle (npm run build:edge) served by a real edge runtime, workerd, in front of a
// region's host: a recording driven through it from Start to finished, its video fetched through it,
// and its authentication done in the worker, with the used signatures kept in the region's store.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signedHeaders, WebRecordClient } from '../../client/index.js';
import { analyse, decodeErrors } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { type EdgeWorker, startEdgeWorker } from '../helpers/workerd.js';
import { sleep } from '../helpers/wait.js';

const SECRET = 'edge-runtime-test-cluster-secret';
const OPS = { key: 'ops', secret: 'ops-secret-for-the-edge-test' };
const KEYS = `${OPS.key}:${OPS.secret}`;
let svc: RunningService;
let edge: EdgeWorker;
let pages: PageServer;
let client: WebRecordClient;
const lower = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

before(async () => {
  pages = await startPageServer();
  svc = await startService({ CLUSTER_SECRET: SECRET, API_KEYS: KEYS, REGION: 'edge-a' });
  edge = await startEdgeWorker({ REGION_ENDPOINTS: `edge-a=${svc.url}`, CLUSTER_SECRET: SECRET, API_KEYS: KEYS, URL_ALLOWLIST: '127.0.0.1' });
  client = new WebRecordClient({ url: edge.url, path: '/release/record', credentials: OPS });
});
after(async () => {
  await edge?.stop();
  await svc?.stop();
  await pages?.close();
});

describe('the edge on an edge runtime (workerd)', () => {
  it('a recording started, paused, resumed, stopped and described through the worker; its video fetched through it decodes', async () => {
    const { TaskID } = await client.start({ RecordURL: pages.url('counter.html'), Width: 640, Height: 360 });
    assert.match(TaskID, /^edge-a-[0-9a-f-]{36}$/, 'the TaskID names its region');
    await client.waitFor(TaskID, 'recording', { timeoutMs: 30_000, intervalMs: 200 });
    const recordingAt = Date.now();
    await sleep(2500);
    const pauseAt = Date.now();
    await client.pause(TaskID);
    assert.equal((await client.describe(TaskID)).Status, 'paused');
    await sleep(1500);
    await client.resume(TaskID);
    const resumedAt = Date.now();
    assert.equal((await client.describe(TaskID)).Status, 'recording');
    await sleep(2500);
    const stopAt = Date.now();
    await client.stop(TaskID);
    const task = await client.waitFor(TaskID, 'finished', { timeoutMs: 60_000, intervalMs: 200 });
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const [video] = task.Result.Videos;
    assert.ok(video);
    // The FileURL is the region's; the same path is served through the edge.
    const path = new URL(video.FileURL).pathname;
    const res = await fetch(edge.url + path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const body = Buffer.from(await res.arrayBuffer());
    const direct = Buffer.from(await (await fetch(video.FileURL)).arrayBuffer());
    assert.ok(body.equals(direct), 'the same bytes as from the region');
    const file = join(svc.dataDir, 'through-edge.mp4');
    writeFileSync(file, body);
    assert.equal(await decodeErrors(file), '');
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.deepEqual([a.info.video?.width, a.info.video?.height], [640, 360]);
    const want = (pauseAt - recordingAt + stopAt - resumedAt) / 1000;
    assert.ok(Math.abs(a.info.duration - want) <= 0.8, `duration ${a.info.duration} s, want ${want.toFixed(2)} (the pause is not in it)`);
    assert.ok(a.distinctPerSecond >= 20, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);

    const ranged = await fetch(edge.url + path, { headers: { range: 'bytes=0-99' } });
    assert.equal(ranged.status, 206, 'a Range is passed through');
    assert.equal((await ranged.arrayBuffer()).byteLength, 100);

    const listed = await client.call('ListTasks', { Limit: 5 });
    assert.ok(
      (listed.answer.Tasks as { TaskID: string }[]).some((t) => t.TaskID === TaskID),
      'ListTasks through the worker',
    );
  });

  it('refuses in the worker: no signature, a wrong secret, a replay (kept in the region store); a RecordURL outside the policy', async () => {
    const body = JSON.stringify({ Action: 'Describe', Data: { TaskID: 'edge-a-00000000-0000-4000-8000-000000000000' } });
    const post = async (headers: Record<string, string>) => {
      const res = await fetch(edge.url + '/release/record', { method: 'POST', headers: { 'content-type': 'application/json', ...lower(headers) }, body });
      return { status: res.status, json: (await res.json()) as Record<string, string> };
    };
    const unsigned = await post({});
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.json.ErrorCode, 'AuthFailure');
    assert.match(unsigned.json.RequestID ?? '', /^[0-9a-f]{32}$/);

    const wrong = await post(await signedHeaders({ key: OPS.key, secret: 'not-the-secret-at-all' }, '/release/record', body));
    assert.equal(wrong.status, 401, JSON.stringify(wrong.json));
    assert.match(wrong.json.ErrorMessage ?? '', /^signature does not match/);

    const signed = await signedHeaders(OPS, '/release/record', body);
    const first = await post(signed);
    assert.equal(first.json.ErrorCode, 'TaskNotFound', JSON.stringify(first.json));
    const replay = await post(signed);
    assert.equal(replay.status, 401);
    assert.match(replay.json.ErrorMessage ?? '', /already used/);
    // The region's own endpoint saw the signature too: the store is shared, not the worker's memory.
    const atRegion = await fetch(svc.url + '/release/record', { method: 'POST', headers: lower(signed), body });
    assert.equal(((await atRegion.json()) as Record<string, string>).ErrorCode, 'AuthFailure');

    const outside = await client.call('Start', { RecordURL: 'http://169.254.169.254/latest/meta-data' });
    assert.equal(outside.answer.ErrorCode, 'InvalidParam');
    assert.match(String(outside.answer.ErrorMessage), /^Data\.RecordURL is outside the URL policy/);
  });

  it("a call not signed with the region's CLUSTER_SECRET is refused at the region's gateway RPC", async () => {
    const res = await fetch(svc.url + '/internal/v1/gateway', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ op: 'health' }) });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { ok: false, code: 'refused', error: 'gateway call refused: unsigned' });
  });
});
