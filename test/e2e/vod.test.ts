// Recordings landing in VOD, through the real v4 SDK, against the test's VOD (TC3 signatures
// checked) and COS (q-sign checked) on loopback: ApplyUpload carries the Start's fields, the files go
// up with the temporary credentials it answers, CommitUpload's FileId reaches Describe and the callback.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type FakeCos, startFakeCos } from '../helpers/fake-cos.js';
import { type FakeVod, startFakeVod } from '../helpers/fake-vod.js';
import { analyse } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep } from '../helpers/wait.js';

const VOD_KEYS = { secretId: 'AKIDtestvod0000000000000000000000000', secretKey: 'test-vod-secret-key-0123456789abcdef' };
const VOD_BUCKET = 'vodupload-1250000000';

let svc: RunningService;
let pages: PageServer;
let cos: FakeCos;
let vod: FakeVod;
let hook: Server;
let hookUrl: string;
const callbacks: Record<string, any>[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any

before(async () => {
  pages = await startPageServer();
  // VOD's storage only takes the temporary credentials ApplyUpload hands out.
  cos = await startFakeCos({ credentials: [] });
  vod = await startFakeVod({ credentials: [VOD_KEYS], cos, bucket: VOD_BUCKET });
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      callbacks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  svc = await startService({
    RECORDER_SLOTS: '1',
    HLS_SEGMENT_SECONDS: '2',
    VOD_SECRET_ID: VOD_KEYS.secretId,
    VOD_SECRET_KEY: VOD_KEYS.secretKey,
    VOD_ENDPOINT: vod.url,
    COS_ENDPOINT: cos.url,
  });
});
after(async () => {
  await svc?.stop();
  await vod?.close();
  await cos?.close();
  await pages?.close();
  hook?.close();
});

const VOD_OUTPUT = {
  MediaInfo: { MediaName: 'lesson 7', ExpireTime: '2030-01-01T00:00:00Z', StorageRegion: 'ap-chongqing', ClassId: 3 },
  ProcedureInfo: { Procedure: 'replay-flow', SessionContext: 'session-ctx-1' },
  SourceContext: 'source-ctx-1',
  SubAppId: '1500007120',
};

describe('recordings to VOD', () => {
  it("MP4: ApplyUpload gets the Start's fields, the file goes up with its credentials, CommitUpload's FileId is in Describe and the callback", async () => {
    const started = await svc.api('Start', { RecordURL: pages.url('counter.html'), CallbackURL: hookUrl, Output: { Vod: VOD_OUTPUT } });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await svc.waitForStatus(id, 'recording', 30_000);
    const recordingAt = Date.now();
    await sleep(5000);
    const stopAt = Date.now();
    await svc.api('Stop', { TaskID: id });
    const task = await svc.waitForStatus(id, 'finished', 90_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));

    const apply = vod.calls.find((c) => c.action === 'ApplyUpload' && !c.error);
    assert.ok(apply, 'ApplyUpload was called');
    assert.equal(apply.params.MediaType, 'mp4');
    assert.equal(apply.params.MediaName, 'lesson 7');
    assert.equal(apply.params.ExpireTime, '2030-01-01T00:00:00Z');
    assert.equal(apply.params.StorageRegion, 'ap-chongqing');
    assert.equal(apply.params.ClassId, 3);
    assert.equal(apply.params.Procedure, 'replay-flow');
    assert.equal(apply.params.SessionContext, 'session-ctx-1');
    assert.equal(apply.params.SourceContext, 'source-ctx-1');
    assert.equal(apply.params.SubAppId, 1500007120);
    const commit = vod.calls.find((c) => c.action === 'CommitUpload' && !c.error);
    assert.ok(commit, 'CommitUpload was called');
    assert.equal(commit.params.SubAppId, 1500007120);

    const v = task.Result.Videos[0];
    assert.match(v.FileId, /^\d+$/);
    assert.match(v.FileURL, new RegExp(`^http://${VOD_BUCKET}\\.vod2\\.myqcloud\\.com/`));
    const key = decodeURIComponent(new URL(v.FileURL).pathname.slice(1));
    const bytes = cos.object(VOD_BUCKET, key);
    assert.ok(bytes, `the media is in VOD's bucket under ${key}`);
    const file = join(svc.dataDir, `${id}.mp4`);
    writeFileSync(file, bytes);
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.ok(Math.abs(a.info.duration - (stopAt - recordingAt) / 1000) <= 1, `duration ${a.info.duration}`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);

    const cb = callbacks.find((c) => c.TaskID === id);
    assert.ok(cb, 'the callback came');
    assert.equal(cb.Result.Videos[0].FileId, v.FileId);
  });

  it('HLS: the segments go beside the playlist VOD named; a CommitUpload that fails once is tried again', async () => {
    vod.failNext(1, { action: 'CommitUpload' });
    const started = await svc.api('Start', { RecordURL: pages.url('counter.html'), Output: { Vod: { MediaInfo: { MediaName: 'hls one' } }, Video: { Muxer: 'hls' } } });
    const id = started.TaskID as string;
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    await svc.api('Stop', { TaskID: id });
    const task = await svc.waitForStatus(id, 'finished', 90_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const apply = vod.calls.filter((c) => c.action === 'ApplyUpload' && !c.error).at(-1)!;
    assert.equal(apply.params.MediaType, 'm3u8');
    const key = decodeURIComponent(new URL(task.Result.Videos[0].FileURL).pathname.slice(1));
    const playlist = cos.object(VOD_BUCKET, key)?.toString('utf8') ?? '';
    assert.match(playlist, /#EXT-X-ENDLIST/);
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 2, `${segments.length} segments`);
    for (const s of segments) assert.ok(cos.object(VOD_BUCKET, dir + s), `segment ${s} beside the playlist`);
    assert.match(task.Result.Videos[0].FileId, /^\d+$/);
    const commits = vod.calls.filter((c) => c.action === 'CommitUpload').slice(-2);
    assert.equal(commits[0]?.error, 'InternalError', 'the first CommitUpload failed');
    assert.equal(commits[1]?.error, undefined, 'and was tried again');
  });
});

describe('a VOD recording that outlasts its upload credentials', () => {
  // ApplyUpload's credentials last 6 s here (hours in VOD) and open only their own folder; VOD
  // cannot extend them. The recorder applies again before they expire and sends what it holds again.
  const LIFE_S = 6;
  let shortCos: FakeCos;
  let shortVod: FakeVod;
  let short: RunningService;
  before(async () => {
    shortCos = await startFakeCos({ credentials: [] });
    shortVod = await startFakeVod({ credentials: [VOD_KEYS], cos: shortCos, bucket: VOD_BUCKET, credentialSeconds: LIFE_S });
    short = await startService({
      RECORDER_SLOTS: '1',
      HLS_SEGMENT_SECONDS: '2',
      VOD_SECRET_ID: VOD_KEYS.secretId,
      VOD_SECRET_KEY: VOD_KEYS.secretKey,
      VOD_ENDPOINT: shortVod.url,
      COS_ENDPOINT: shortCos.url,
    });
  });
  after(async () => {
    await short?.stop();
    await shortVod?.close();
    await shortCos?.close();
  });

  /** Records `seconds` of `muxer` to VOD; the task, and the uploads to VOD's storage it made. */
  async function record(muxer: 'mp4' | 'hls', seconds: number) {
    const appliedBefore = shortVod.calls.length;
    const cosBefore = shortCos.log.length;
    // At 1280×720 the MP4 passes a part's 1 MiB within its first lifetime: parts go up to every folder.
    const started = await short.api('Start', { RecordURL: pages.url('counter.html'), Output: { Vod: { MediaInfo: { MediaName: `long ${muxer}` } }, Video: { Muxer: muxer } } });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await short.waitForStatus(id, 'recording', 30_000);
    const recordingAt = Date.now();
    await sleep(seconds * 1000);
    const stopAt = Date.now();
    await short.api('Stop', { TaskID: id });
    const task = await short.waitForStatus(id, 'finished', 90_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const calls = shortVod.calls.slice(appliedBefore).filter((c) => !c.error);
    const requests = shortCos.log.slice(cosBefore);
    const folder = (key: string) => key.slice(0, key.lastIndexOf('/') + 1);
    const key = decodeURIComponent(new URL(task.Result.Videos[0].FileURL).pathname.slice(1));
    return { task, key, folder: folder(key), recorded: (stopAt - recordingAt) / 1000, calls, requests, folders: new Set(requests.filter((r) => r.op !== 'abortMultipart').map((r) => folder(r.key))) };
  }

  it('MP4 of three credential lifetimes: applied for again while recording, the file sent again from its start to the new folder, the old upload dropped, only the last committed; nothing refused', async () => {
    const r = await record('mp4', 3 * LIFE_S);
    const applies = r.calls.filter((c) => c.action === 'ApplyUpload');
    assert.ok(applies.length >= 3, `ApplyUpload ${applies.length} times`);
    assert.deepEqual(r.calls.filter((c) => c.action === 'CommitUpload').length, 1, 'one upload committed');
    assert.deepEqual(
      r.requests.filter((q) => q.status >= 400).map((q) => `${q.op} ${q.status}`),
      [],
      'no request to VOD storage refused (none with an expired credential)',
    );
    assert.ok(r.folders.size >= 2, `parts went up to ${r.folders.size} folders while recording`);
    assert.ok(
      r.requests.some((q) => q.op === 'abortMultipart' && !q.key.startsWith(r.folder)),
      "an older folder's upload was dropped while its credential held",
    );
    const parts = r.requests.filter((q) => q.op === 'uploadPart' && q.key === r.key);
    assert.equal(parts[0]?.partNumber, 1, 'the last folder got the file from its first part');
    const file = join(short.dataDir, `${r.task.TaskID}-renewed.mp4`);
    writeFileSync(file, shortCos.object(VOD_BUCKET, r.key)!);
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.ok(Math.abs(a.info.duration - r.recorded) <= 1, `duration ${a.info.duration} of ${r.recorded} s recorded`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
    assert.ok(a.meanVolumeDb > -40, `audio present (mean ${a.meanVolumeDb} dB)`);
  });

  it('HLS of two lifetimes: every segment the final playlist names is beside it in the last folder', async () => {
    const r = await record('hls', 2 * LIFE_S);
    assert.ok(r.calls.filter((c) => c.action === 'ApplyUpload').length >= 2);
    assert.deepEqual(
      r.requests.filter((q) => q.status >= 400).map((q) => `${q.op} ${q.status}`),
      [],
    );
    const playlist = shortCos.object(VOD_BUCKET, r.key)!.toString('utf8');
    const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 5, `${segments.length} segments`);
    for (const s of segments) assert.ok(shortCos.object(VOD_BUCKET, r.folder + s), `segment ${s} beside the playlist`);
    const duration = playlist
      .split('\n')
      .filter((l) => l.startsWith('#EXTINF:'))
      .reduce((n, l) => n + Number(l.slice(8).split(',')[0]), 0);
    assert.ok(Math.abs(duration - r.recorded) <= 1, `segments add up to ${duration} s of ${r.recorded} s recorded`);
    assert.equal(r.task.Result.Videos[0].FileDuration.toFixed(1), duration.toFixed(1));
  });
});
