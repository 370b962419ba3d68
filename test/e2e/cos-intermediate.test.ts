// StorageType "cos": the intermediate recording goes up to COS while recording, so a recorder killed
// mid-recording is recovered by another on a machine of its own (its own DATA_DIR, nothing shared
// but Redis and the bucket), and the raw chunks go once the result is safe.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeCos, startFakeCos } from '../helpers/fake-cos.js';
import { analyse, decodeErrors } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { scratchDir } from '../helpers/scratch.js';
import { processesOf, type RunningService, startRecorderProcess, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const BUCKET = 'media-1250000000';
const RAW_BUCKET = 'raw-1250000000';
const REGION = 'ap-guangzhou';
const CREDENTIALS = { secretId: 'AKIDtestcos0000000000000000000000000', secretKey: 'test-cos-secret-key-0123456789abcdef' };

describe('the intermediate recording in COS (StorageType "cos")', () => {
  let redis: TestRedis;
  let api: RunningService;
  let cos: FakeCos;
  let pages: PageServer;
  let env: Record<string, string>;

  before(async () => {
    pages = await startPageServer();
    cos = await startFakeCos({ credentials: [CREDENTIALS], publicRead: true });
    redis = await startTestRedis();
    env = {
      REDIS_URL: redis.url,
      COS_SECRET_ID: CREDENTIALS.secretId,
      COS_SECRET_KEY: CREDENTIALS.secretKey,
      COS_BUCKET: BUCKET,
      COS_BUCKET_RAW: RAW_BUCKET,
      COS_REGION: REGION,
      COS_ENDPOINT: cos.url,
      RECORDER_SLOTS: '1',
    };
    api = await startService({ ...env, ROLE: 'api' });
  });
  after(async () => {
    await api?.stop();
    await redis?.stop();
    await cos?.close();
    await pages?.close();
  });

  it('a recorder killed with SIGKILL 5 s in: another, on its own DATA_DIR, rebuilds the recording from COS_BUCKET_RAW and finishes it (RecorderLost, ≥ 4 s); the raw chunks are removed', async () => {
    const first = await startRecorderProcess(env, scratchDir('cos-raw-first'));
    const started = await api.api('Start', { RecordURL: pages.url('counter.html'), StorageType: 'cos', Output: { Cos: { TargetName: 'recovered.mp4', Domain: `${cos.url}/${BUCKET}` } } });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await api.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    const raw = cos.keys(RAW_BUCKET, `raw/${id}/1/`);
    assert.ok(raw.length >= 3, `raw chunks went up while recording (${raw.length})`);
    await first.stop('SIGKILL');
    await waitFor(() => processesOf(first.runMarker).length === 0, { timeoutMs: 5000, what: 'no orphans of the killed recorder' });

    const secondDir = scratchDir('cos-raw-second');
    const second = await startRecorderProcess(env, secondDir);
    try {
      const task = await api.waitForStatus(id, 'finished', 60_000);
      assert.equal(task.Result.ErrorCode, 'RecorderLost', JSON.stringify(task.Result));
      const v = task.Result.Videos[0];
      assert.ok(v, 'the video of what was recorded');
      assert.equal(v.FileURL, `${cos.url}/${BUCKET}/${id}/recovered.mp4`);
      const res = await fetch(v.FileURL);
      assert.equal(res.status, 200);
      const file = join(secondDir, `${id}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      assert.equal(await decodeErrors(file), '', 'decodes fully');
      const a = analyse(file);
      assert.equal(a.info.video?.codec, 'h264');
      assert.equal(a.info.audio?.codec, 'aac');
      assert.ok(a.info.duration >= 4, `${a.info.duration} s recovered, want ≥ 4`);
      assert.ok(Math.abs(v.FileDuration - a.info.duration) < 0.05);
      assert.equal(existsSync(join(secondDir, 'cfs', id)), false, 'the second recorder had no local copy: it used the bucket');
      await waitFor(() => !cos.keys(RAW_BUCKET, `raw/${id}/`).length, { timeoutMs: 5000, what: () => `the raw chunks removed (left: ${cos.keys(RAW_BUCKET, `raw/${id}/`).join(', ')})` });
      assert.deepEqual(cos.keys(BUCKET, 'raw/'), [], 'nothing raw in the target bucket: COS_BUCKET_RAW holds it');
    } finally {
      await second.stop();
    }
  });
});
