// Recordings landing in COS, through the real SDK, against the test's COS on loopback that checks
// every request's signature: MP4 streamed up in parts while recording, an encrypted HLS set played
// back from the bucket, retries through 503s, and an upload that never succeeds keeping its copy.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeCos, startFakeCos } from '../helpers/fake-cos.js';
import { analyse, decodeErrors, HLS_INPUT, hlsToMp4 } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type Answer, type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const BUCKET = 'media-1250000000';
const REGION = 'ap-guangzhou';
const CREDENTIALS = { secretId: 'AKIDtestcos0000000000000000000000000', secretKey: 'test-cos-secret-key-0123456789abcdef' };
const HLS_KEY = '0123456789abcdef'; // EncryptKey as text: these 16 bytes are the key

let svc: RunningService;
let pages: PageServer;
let cos: FakeCos;
let keyServer: Server;
let keyUrl: string;

before(async () => {
  pages = await startPageServer();
  cos = await startFakeCos({ credentials: [CREDENTIALS], publicRead: true });
  keyServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(HLS_KEY));
  await new Promise<void>((r) => keyServer.listen(0, '127.0.0.1', r));
  keyUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/key`;
  svc = await startService({
    RECORDER_SLOTS: '1',
    HLS_SEGMENT_SECONDS: '2',
    COS_SECRET_ID: CREDENTIALS.secretId,
    COS_SECRET_KEY: CREDENTIALS.secretKey,
    COS_BUCKET: BUCKET,
    COS_REGION: REGION,
    COS_ENDPOINT: cos.url,
  });
});
after(async () => {
  await svc?.stop();
  await cos?.close();
  await pages?.close();
  keyServer?.close();
});

/** The bucket read path-style on the test COS, as a CDN Domain would serve it. */
const domain = () => `${cos.url}/${BUCKET}`;

/** Records `seconds`, then stops; answers the finished task, with when it was stopped. */
async function record(output: Record<string, unknown>, seconds: number, page = 'counter.html', more: Record<string, unknown> = {}): Promise<{ task: Answer; recordingAt: number; stopAt: number }> {
  const started = await svc.api('Start', { RecordURL: pages.url(page), Output: output, ...more });
  assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
  const id = started.TaskID as string;
  await svc.waitForStatus(id, 'recording', 30_000);
  const recordingAt = Date.now();
  await sleep(seconds * 1000);
  const stopAt = Date.now();
  assert.equal((await svc.api('Stop', { TaskID: id })).ErrorCode, undefined);
  const task = await svc.waitForStatus(id, 'finished', 90_000);
  return { task, recordingAt, stopAt };
}

function assertMedia(file: string, seconds: number, withAudio = true) {
  const a = analyse(file);
  assert.equal(a.info.video?.codec, 'h264');
  assert.deepEqual([a.info.video?.width, a.info.video?.height], [1280, 720]);
  if (withAudio) assert.equal(a.info.audio?.codec, 'aac');
  assert.ok(Math.abs(a.info.duration - seconds) <= 1, `duration ${a.info.duration} s, want ${seconds.toFixed(2)} ± 1`);
  assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  if (withAudio) assert.ok(a.meanVolumeDb > -40, `audio present (mean ${a.meanVolumeDb} dB)`);
}

describe('recordings to COS', () => {
  it('MP4 with TargetDir, TargetName without ".mp4" and Domain: parts go up while recording; the object decodes whole', async () => {
    // A page of noise: megabytes within seconds, so parts go up while it records.
    const { task, recordingAt, stopAt } = await record({ Cos: { TargetDir: 'classes/2026', TargetName: 'lesson-1', Domain: domain() } }, 8, 'noise.html');
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const v = task.Result.Videos[0];
    const key = 'classes/2026/lesson-1.mp4';
    assert.equal(v.Filename, 'lesson-1.mp4');
    assert.equal(v.FileURL, `${domain()}/${key}`);
    const bytes = cos.object(BUCKET, key);
    assert.ok(bytes, `object ${key} exists (bucket holds ${cos.keys(BUCKET).join(', ')})`);
    assert.equal(bytes.length, v.FileSize);
    // Parts were sent while the task recorded, not after Stop.
    const parts = cos.log.filter((r) => r.op === 'uploadPart' && r.key === key && r.status === 200);
    assert.ok(parts.length >= 2, `${parts.length} parts`);
    assert.ok(
      parts.some((p) => p.at > recordingAt && p.at < stopAt),
      `a part went up while recording (parts at ${parts.map((p) => p.at - stopAt).join(', ')} ms from Stop)`,
    );
    // Read back through the Domain, as a player would.
    const res = await fetch(v.FileURL);
    assert.equal(res.status, 200);
    const file = join(svc.dataDir, `${task.TaskID}.mp4`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    assert.equal(await decodeErrors(file), '', 'decodes fully');
    assertMedia(file, (stopAt - recordingAt) / 1000, false);
    // Nothing left behind on the recorder once the object is safe.
    assert.equal(existsSync(join(svc.dataDir, 'tmp', `${task.TaskID}-1.mp4`)), false);
  });

  it('MP4 with TargetName ending ".mp4" and no Domain: the bucket\'s own URL, under the TaskID', async () => {
    const { task } = await record({ Cos: { TargetName: 'named.mp4' } }, 3);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const v = task.Result.Videos[0];
    assert.equal(v.Filename, 'named.mp4');
    assert.equal(v.FileURL, `https://${BUCKET}.cos.${REGION}.myqcloud.com/${task.TaskID}/named.mp4`);
    assert.ok(cos.object(BUCKET, `${task.TaskID}/named.mp4`), 'the object exists');
  });

  it('HLS with AES-128, StorageType "cos": every segment and the final playlist are objects; it plays back from the bucket with the key; the raw chunks went up while recording and are gone after', async () => {
    const { task, recordingAt, stopAt } = await record({ Cos: { Domain: domain() }, Video: { Muxer: 'hls', EncryptKey: HLS_KEY, AuthUrl: keyUrl } }, 6, 'counter.html', { StorageType: 'cos' });
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const v = task.Result.Videos[0];
    const key = `${task.TaskID}/index.m3u8`;
    assert.equal(v.FileURL, `${domain()}/${key}`);
    const playlist = cos.object(BUCKET, key)?.toString('utf8') ?? '';
    assert.match(playlist, /#EXT-X-ENDLIST/);
    assert.match(playlist, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="${keyUrl}"`));
    const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 3, `${segments.length} segments`);
    for (const s of segments) assert.ok(cos.object(BUCKET, `${task.TaskID}/${s}`), `segment ${s} is an object`);
    // Segments went up while recording.
    const early = cos.log.filter((r) => r.op === 'putObject' && r.key.endsWith('.ts') && r.key.startsWith(task.TaskID) && r.at < stopAt);
    assert.ok(early.length >= 1, 'a segment went up before Stop');
    const file = join(svc.dataDir, `${task.TaskID}-played.mp4`);
    await hlsToMp4(v.FileURL, file);
    assert.equal(await decodeErrors(v.FileURL, HLS_INPUT), '', 'decodes fully, decrypted with the key at AuthUrl');
    assertMedia(file, (stopAt - recordingAt) / 1000);
    // The intermediate recording went up beside it, in the target bucket under raw/<TaskID>/, and
    // was removed once the result was reported.
    const raw = cos.log.filter((r) => r.op === 'putObject' && r.status === 200 && r.key.startsWith(`raw/${task.TaskID}/1/`));
    assert.ok(raw.filter((r) => r.at < stopAt).length >= 3, `raw chunks went up while recording (${raw.length} in all)`);
    await waitFor(() => !cos.keys(BUCKET, 'raw/').length, { timeoutMs: 5000, what: () => `no raw chunk left (left: ${cos.keys(BUCKET, 'raw/').join(', ')})` });
  });

  it('two 503s, then success: delivered', async () => {
    const before = cos.log.length;
    cos.failNext(2);
    const { task } = await record({ Cos: { TargetName: 'after-503.mp4' } }, 2);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    assert.ok(cos.object(BUCKET, `${task.TaskID}/after-503.mp4`), 'the object exists');
    assert.equal(cos.log.slice(before).filter((r) => r.status === 503).length, 2, 'the two 503s were met, and tried again');
  });

  it('a COS that always fails: UploadFailed, the local copy kept and named', async () => {
    cos.failNext(1000, { status: 503 });
    try {
      const { task } = await record({ Cos: { TargetName: 'never.mp4' } }, 2);
      assert.equal(task.Result.ErrorCode, 'UploadFailed', JSON.stringify(task.Result));
      const kept = /kept at (\S+)/.exec(task.Result.ErrorMessage)?.[1];
      assert.ok(kept && existsSync(kept), `the local copy exists (${task.Result.ErrorMessage})`);
      const a = analyse(kept);
      assert.equal(a.info.video?.codec, 'h264', 'the kept copy is the recording');
    } finally {
      cos.failNext(0);
    }
  });
});
