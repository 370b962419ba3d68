// MP4 and HLS outputs of the same recording with a pause; HLS watched live; AES-128 encryption
// with a key that is never written anywhere.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { download, downloadHls } from '../helpers/download.js';
import { playsInChromium } from '../helpers/chromium-play.js';
import { analyse, decodeErrors, HLS_INPUT, hlsToMp4 } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type Answer, type RunningService, startService } from '../helpers/service.js';
import { sleep } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;

before(async () => {
  pages = await startPageServer();
  svc = await startService({ RECORDER_SLOTS: '2', HLS_SEGMENT_SECONDS: '4' });
});
after(async () => {
  await svc?.stop();
  await pages?.close();
});

const recordedSeconds = new Map<string, number>();

/** Records 4 s, pauses 3 s, records 4 s more; `beforeStop` runs just before Stop. */
async function pausedRecording(output: Record<string, unknown>, beforeStop?: (id: string) => Promise<void>): Promise<Answer> {
  const started = await svc.api('Start', { RecordURL: pages.url('counter.html'), Output: { Video: output } });
  assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
  const id = started.TaskID as string;
  await svc.waitForStatus(id, 'recording', 30_000);
  const recordingAt = Date.now();
  await sleep(4000);
  const pauseAt = Date.now();
  assert.equal((await svc.api('Pause', { TaskID: id })).ErrorCode, undefined);
  await sleep(3000);
  assert.equal((await svc.api('Resume', { TaskID: id })).ErrorCode, undefined);
  const resumedAt = Date.now();
  await sleep(4000);
  await beforeStop?.(id);
  const stopAt = Date.now();
  assert.equal((await svc.api('Stop', { TaskID: id })).ErrorCode, undefined);
  // What was asked to be recorded, as this test timed it (a loaded machine stretches the sleeps).
  recordedSeconds.set(id, (pauseAt - recordingAt + stopAt - resumedAt) / 1000);
  const task = await svc.waitForStatus(id, 'finished', 60_000);
  assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
  assert.equal(task.Result.Videos.length, 1);
  return task;
}

async function assertRecording(file: string, taskId: string) {
  assert.equal(await decodeErrors(file), '', 'decodes fully');
  const a = analyse(file);
  assert.equal(a.info.video?.codec, 'h264');
  assert.deepEqual([a.info.video?.width, a.info.video?.height], [1280, 720]);
  assert.equal(a.info.audio?.codec, 'aac');
  const want = recordedSeconds.get(taskId)!;
  assert.ok(Math.abs(a.info.duration - want) <= 0.5, `duration ${a.info.duration} s, want ${want.toFixed(2)} ± 0.5 (the 3 s pause is not in it)`);
  assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  assert.ok(a.meanVolumeDb > -40, `audio present (mean ${a.meanVolumeDb} dB)`);
  assert.ok(a.maxGap <= 0.2, `continuous across the pause (largest gap ${a.maxGap.toFixed(3)} s)`);
  return a;
}

describe('MP4 and HLS of a recording with a 3 s pause', () => {
  it('MP4: fragmented, decodes fully, 8 s, ≥ 28 distinct fps, audio', async () => {
    const task = await pausedRecording({ Muxer: 'mp4' });
    const v = task.Result.Videos[0];
    const file = join(svc.dataDir, `${task.TaskID}.mp4`);
    const bytes = await download(v.FileURL, file);
    assert.equal(bytes.length, v.FileSize);
    assert.ok(Math.abs(v.FileDuration - recordedSeconds.get(task.TaskID)!) <= 0.5, `FileDuration ${v.FileDuration}`);
    await assertRecording(file, task.TaskID);
  });

  it('HLS: live while recording, then a VOD playlist with ≥ 2 segments and ENDLIST, one continuous stream', async () => {
    let live = '';
    const task = await pausedRecording({ Muxer: 'hls' }, async (id) => {
      const during = await svc.api('Describe', { TaskID: id });
      assert.equal(during.Status, 'recording');
      const url = during.Result.Videos[0]?.FileURL as string;
      assert.match(url ?? '', /\/index\.m3u8$/, 'Describe names the live playlist while recording');
      const res = await fetch(url);
      assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      live = await res.text();
    });
    assert.match(live, /#EXTINF:/, 'the live playlist already lists segments');
    assert.doesNotMatch(live, /#EXT-X-ENDLIST/, 'and is not ended');

    const v = task.Result.Videos[0];
    assert.equal(v.Filename, 'index.m3u8');
    const hls = await downloadHls(v.FileURL, join(svc.dataDir, `hls-${task.TaskID}`));
    assert.equal(hls.bytes, v.FileSize, 'FileSize is the playlist plus its segments');
    assert.ok(hls.segments.length >= 2, `${hls.segments.length} segments`);
    assert.match(hls.playlist, /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(hls.playlist, /#EXT-X-ENDLIST\s*$/);
    assert.doesNotMatch(hls.playlist, /#EXT-X-DISCONTINUITY/, 'Pause/Resume keeps one continuous stream');
    assert.ok(Math.abs(v.FileDuration - recordedSeconds.get(task.TaskID)!) <= 0.5, `FileDuration ${v.FileDuration}`);
    const mp4 = join(svc.dataDir, `${task.TaskID}-from-hls.mp4`);
    await hlsToMp4(hls.path, mp4);
    await assertRecording(mp4, task.TaskID);
  });
});

describe('HLS with AES-128', () => {
  // As the original product made it: the key is the first 16 bytes of EncryptKey, as text.
  const TEXT_KEY = '0123456789abcdefTAIL-IGNORED-PART';
  const textKeyBytes = Buffer.from('0123456789abcdef');
  const hexKey = Buffer.from('8f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');
  let keyServer: Server;
  let keysAt: string;

  before(async () => {
    keyServer = createServer((req, res) => {
      const key = req.url === '/keys/text.key' ? textKeyBytes : req.url === '/keys/hex.key' ? hexKey : null;
      // Players on another origin (Chromium's own HLS) fetch the key too.
      if (!key) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'access-control-allow-origin': '*' }).end(key);
    });
    await new Promise<void>((r) => keyServer.listen(0, '127.0.0.1', r));
    keysAt = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/keys`;
  });
  after(() => new Promise<void>((r) => keyServer.close(() => r())));

  async function assertEncrypted(task: Answer, authUrl: string, dir: string) {
    const hls = await downloadHls(task.Result.Videos[0].FileURL, join(svc.dataDir, dir));
    assert.match(hls.playlist, new RegExp(`#EXT-X-KEY:METHOD=AES-128,URI="${authUrl.replace(/[.]/g, '\\.')}"`));
    for (const seg of hls.segments) {
      // Read as MPEG-TS (left to guess, ffprobe may take random bytes for some audio format).
      const plain = spawnSync('ffprobe', ['-v', 'error', '-f', 'mpegts', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', join(svc.dataDir, dir, seg)]);
      assert.ok(plain.status !== 0 || !/video/.test(plain.stdout.toString()), `${seg} is not readable as plain MPEG-TS (${plain.stdout.toString().trim()})`);
    }
    return hls;
  }

  it('EncryptKey as text (the default, as the original): decrypts with its first 16 bytes served at AuthUrl, in ffmpeg and in Chromium; the key is written nowhere', async () => {
    const authUrl = `${keysAt}/text.key`;
    const task = await pausedRecording({ Muxer: 'hls', EncryptKey: TEXT_KEY, AuthUrl: authUrl });
    const hls = await assertEncrypted(task, authUrl, `aes-${task.TaskID}`);
    // With the 16 bytes from AuthUrl, it decodes fully.
    const mp4 = join(svc.dataDir, `${task.TaskID}-decrypted.mp4`);
    await hlsToMp4(hls.path, mp4);
    assert.equal(await decodeErrors(hls.path, HLS_INPUT), '');
    await assertRecording(mp4, task.TaskID);
    // Chromium's own HLS playback fetches the key from AuthUrl and plays.
    await playsInChromium(task.Result.Videos[0].FileURL, task.Result.Videos[0].FileDuration, { tolerance: 0.5 });

    // Nowhere under DATA_DIR (task state, Redis files, logs, outputs) is the key: as given, as bytes, in hex.
    const needles = [Buffer.from(TEXT_KEY), textKeyBytes, Buffer.from(textKeyBytes.toString('hex'))];
    const holders = filesUnder(svc.dataDir).filter((f) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(f);
      } catch {
        return false; // gone meanwhile (a socket, or a file of a browser profile being removed)
      }
      return needles.some((n) => bytes.includes(n));
    });
    assert.deepEqual(holders, [], 'the key appears in no file');
    assert.ok(
      filesUnder(svc.dataDir).some((f) => f.endsWith('.log')),
      'the service log was searched too',
    );
  });

  it('EncryptKeyFormat "hex": decrypts with the decoded 128-bit key', async () => {
    const authUrl = `${keysAt}/hex.key`;
    const started = await svc.api('Start', {
      RecordURL: pages.url('counter.html'),
      Output: { Video: { Muxer: 'hls', EncryptKey: hexKey.toString('hex').toUpperCase(), EncryptKeyFormat: 'hex', AuthUrl: authUrl } },
    });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    await svc.waitForStatus(started.TaskID, 'recording', 30_000);
    await sleep(5000);
    assert.equal((await svc.api('Stop', { TaskID: started.TaskID })).ErrorCode, undefined);
    const task = await svc.waitForStatus(started.TaskID, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const hls = await assertEncrypted(task, authUrl, `hex-${task.TaskID}`);
    const mp4 = join(svc.dataDir, `${task.TaskID}-decrypted.mp4`);
    await hlsToMp4(hls.path, mp4);
    assert.equal(await decodeErrors(hls.path, HLS_INPUT), '');
    const a = analyse(mp4);
    assert.equal(a.info.video?.codec, 'h264');
    assert.ok(Math.abs(a.info.duration - task.Result.Videos[0].FileDuration) <= 0.2, `duration ${a.info.duration}`);
    assert.ok(a.info.duration >= 4, `duration ${a.info.duration}`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  });

  it('an EncryptKey under 16 bytes, or not 32 hex characters with "hex", is InvalidParam and creates nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ EncryptKey: '0123456789abcde' }, /^Data\.Output\.Video\.EncryptKey must be at least 16 bytes/],
      [{ EncryptKey: TEXT_KEY, EncryptKeyFormat: 'hex' }, /^Data\.Output\.Video\.EncryptKey must be 32 hexadecimal characters/],
    ];
    for (const [video, message] of cases) {
      const a = await svc.api('Start', { RecordURL: pages.url('counter.html'), Output: { Video: { Muxer: 'hls', AuthUrl: `${keysAt}/text.key`, ...video } } });
      assert.equal(a.ErrorCode, 'InvalidParam');
      assert.match(a.ErrorMessage, message);
      assert.equal(a.TaskID, undefined);
    }
  });
});

/** Every file under dir; one that goes away while it is listed (a browser profile being removed) is skipped. */
function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const p = join(dir, name);
    try {
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    } catch {
      return [];
    }
  });
}
