// StorageType "cos": the intermediate recording goes up to COS while recording, so a recorder killed
// mid-recording, its disk lost with it, is still recovered: the next recorder rebuilds the recording
// from the bucket, and the raw chunks go once the result is safe. The next recorder also ends what
// the dead one left running in its place, and nothing of anyone else's. (The same recovery from a
// shared DATA_DIR is many-hosts.test.ts's; a restart on the same DATA_DIR is recovery.test.ts's.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../../lib/child-process.js';
import { recorderHome } from '../../recorder/recorder.js';
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

  it('a recorder killed with SIGKILL 5 s in, its local copy lost: the next ends its leftovers only, rebuilds the recording from COS_BUCKET_RAW and finishes it (RecorderLost, ≥ 4 s); the raw chunks are removed', async () => {
    const dataDir = scratchDir('cos-raw');
    const first = await startRecorderProcess(env, dataDir);
    const started = await api.api('Start', {
      Width: 640,
      Height: 360,
      RecordURL: pages.url('counter.html'),
      StorageType: 'cos',
      Output: { Cos: { TargetName: 'recovered.mp4', Domain: `${cos.url}/${BUCKET}` } },
    });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await api.waitForStatus(id, 'recording', 30_000);
    await sleep(5000);
    const raw = cos.keys(RAW_BUCKET, `raw/${id}/1/`);
    assert.ok(raw.length >= 3, `raw chunks went up while recording (${raw.length})`);
    assert.ok(processesOf(first.runMarker).length > 2, 'its Chromium is running');
    await first.stop('SIGKILL');
    await waitFor(() => processesOf(first.runMarker).length === 0, { timeoutMs: 5000, what: () => `no orphans of the killed recorder (left: ${processesOf(first.runMarker).join(', ')})` });
    // The machine's disk went with it: the bucket is all there is.
    rmSync(join(dataDir, 'cfs', id), { recursive: true, force: true });

    // Leftovers of a dead recorder of this place are ended by the next one; others' are not.
    const home = recorderHome(dataDir);
    const fake = (vars: Record<string, string>) => spawn('sleep', ['600'], { env: { ...process.env, ...vars }, stdio: 'ignore' });
    const leftover = fake({ WEBRECORD_RECORDER_HOME: home, WEBRECORD_RECORDER_PID: String(first.child.pid) });
    const elsewhere = fake({ WEBRECORD_RECORDER_HOME: 'someone-else', WEBRECORD_RECORDER_PID: String(first.child.pid) });
    const living = fake({ WEBRECORD_RECORDER_HOME: home, WEBRECORD_RECORDER_PID: String(process.pid) });
    const second = await startRecorderProcess(env, dataDir);
    try {
      await waitFor(() => !isAlive(leftover.pid!), { timeoutMs: 5000, what: 'the leftover to be ended' });
      assert.ok(isAlive(elsewhere.pid!), "another place's process is left alone");
      assert.ok(isAlive(living.pid!), "a live recorder's process is left alone");

      const task = await api.waitForStatus(id, 'finished', 60_000);
      assert.equal(task.Result.ErrorCode, 'RecorderLost', JSON.stringify(task.Result));
      const v = task.Result.Videos[0];
      assert.ok(v, 'the video of what was recorded');
      assert.equal(v.FileURL, `${cos.url}/${BUCKET}/${id}/recovered.mp4`);
      const res = await fetch(v.FileURL);
      assert.equal(res.status, 200);
      const file = join(dataDir, `${id}.mp4`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      assert.equal(await decodeErrors(file), '', 'decodes fully');
      const a = analyse(file);
      assert.equal(a.info.video?.codec, 'h264');
      assert.equal(a.info.audio?.codec, 'aac');
      assert.deepEqual([a.info.video?.width, a.info.video?.height], [640, 360]);
      assert.ok(a.info.duration >= 4, `${a.info.duration} s recovered, want ≥ 4`);
      assert.ok(Math.abs(v.FileDuration - a.info.duration) < 0.05);
      assert.equal(existsSync(join(dataDir, 'cfs', id)), false, 'no local copy was made: the bucket was used');
      await waitFor(() => !cos.keys(RAW_BUCKET, `raw/${id}/`).length, { timeoutMs: 5000, what: () => `the raw chunks removed (left: ${cos.keys(RAW_BUCKET, `raw/${id}/`).join(', ')})` });
      assert.deepEqual(cos.keys(BUCKET, 'raw/'), [], 'nothing raw in the target bucket: COS_BUCKET_RAW holds it');
    } finally {
      for (const p of [elsewhere, living, leftover]) p.kill('SIGKILL');
      await second.stop();
    }
  });
});
