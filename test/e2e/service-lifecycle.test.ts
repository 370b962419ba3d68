// The embedded default as a whole: bad settings stop start-up in one line, Start jobs wait for a free
// slot instead of being refused, tasks survive a restart, a shutdown without Redis still finishes the
// recording's file, and nothing outlives a killed service.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeErrors, mediaInfo } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startPlainRedis } from '../helpers/redis.js';
import { processesOf, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { scratchDir } from '../helpers/scratch.js';
import { freePort } from '../../lib/net.js';

const ROOT = new URL('../../', import.meta.url).pathname;
let pages: PageServer;

before(async () => {
  pages = await startPageServer();
});
after(async () => {
  await pages?.close();
});

describe('start-up', () => {
  it('a bad setting stops start-up with one line naming it', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], {
      cwd: ROOT,
      env: { ...process.env, RECORDER_SLOTS: 'zero', DATA_DIR: scratchDir('bad') },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'webrecord: setting RECORDER_SLOTS must be an integer in [1, 64] (got "zero")\n');
    assert.equal(r.stdout, '');
  });
});

describe('the browser sandbox at start-up', () => {
  const run = async (env: Record<string, string>, waitForReady = false) => {
    const port = await freePort();
    return new Promise<{ code: number | null; stderr: string; log: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: scratchDir('sandbox'), PORT: String(port), BROWSER_POOL: '0', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      let log = '';
      child.stderr!.on('data', (d) => (stderr += d));
      child.stdout!.on('data', (d) => {
        log += d;
        if (waitForReady && log.includes('"recorder ready"')) child.kill('SIGTERM');
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr, log });
      });
    });
  };

  it('a BROWSER_USER that does not exist stops start-up with one line naming it', async () => {
    const r = await run({ BROWSER_USER: 'no-such-user' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^webrecord: setting BROWSER_USER names a user that does not exist \("no-such-user"\)/);
  });

  it('where the sandbox cannot start, the recorder refuses; CHROMIUM_NO_SANDBOX=1 records without it and says so', async () => {
    // A Chromium that fails as a real one does without user namespaces, unless told --no-sandbox.
    const fake = join(scratchDir('fake-chromium'), 'chromium');
    writeFileSync(fake, '#!/bin/sh\ncase "$*" in *--no-sandbox*) echo "<html></html>"; exit 0;; esac\necho "[FATAL:zygote_host_impl_linux.cc] No usable sandbox!" >&2\nexit 1\n', { mode: 0o755 });
    chmodSync(join(fake, '..'), 0o755);
    const refused = await run({ CHROMIUM_PATH: fake });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^webrecord: Chromium's sandbox cannot start here as webrecord-browser \(.*No usable sandbox!.*\); set CHROMIUM_NO_SANDBOX=1/);
    const unsafe = await run({ CHROMIUM_PATH: fake, CHROMIUM_NO_SANDBOX: '1' }, true);
    assert.match(unsafe.log, /CHROMIUM_NO_SANDBOX=1: recorded pages run WITHOUT Chromium's sandbox/);
    assert.match(unsafe.log, /"recorder ready"/);
  });
});

describe('the embedded default across restarts', () => {
  const dataDir = scratchDir('life');

  it('with one slot, a second Start waits in the stream and records when the slot frees', async () => {
    const svc = await startService({ RECORDER_SLOTS: '1' }, { dataDir });
    try {
      const first = (await svc.api('Start', { Width: 640, Height: 360, RecordURL: pages.url('counter.html') })).TaskID as string;
      await svc.waitForStatus(first, 'recording', 30_000);
      const second = await svc.api('Start', { Width: 640, Height: 360, RecordURL: pages.url('counter.html') });
      assert.equal(second.ErrorCode, undefined, 'not refused');
      await sleep(3000);
      assert.equal((await svc.api('Describe', { TaskID: second.TaskID })).Status, 'normal', 'waiting for the slot');
      assert.equal((await svc.api('Stop', { TaskID: first })).ErrorCode, undefined);
      await svc.waitForStatus(second.TaskID, 'recording', 30_000);
      await sleep(2000);
      assert.equal((await svc.api('Stop', { TaskID: second.TaskID })).ErrorCode, undefined);
      for (const id of [first, second.TaskID]) {
        const t = await svc.waitForStatus(id, 'finished', 60_000);
        assert.equal(t.Result.ErrorCode, undefined);
        assert.equal(t.Result.Videos.length, 1);
      }
    } finally {
      await svc.stop();
    }
    await waitFor(() => processesOf(svc.runMarker).length === 0, { timeoutMs: 10_000, what: 'no processes after SIGTERM' });
  });

  it('a restart on the same DATA_DIR keeps every task', async () => {
    const svc = await startService({}, { dataDir });
    let id: string;
    let before: unknown;
    try {
      id = (await svc.api('Start', { Width: 640, Height: 360, RecordURL: pages.url('counter.html'), MaxDurationLimit: 3 })).TaskID as string;
      before = await svc.waitForStatus(id, 'finished', 60_000);
      const { Result } = before as { Result: { ErrorCode?: string; Videos: unknown[] } };
      assert.equal(Result.ErrorCode, undefined, JSON.stringify(Result));
      assert.equal(Result.Videos.length, 1);
      // Redis persists every second: give it that second, as a service that runs on would have.
      await sleep(1200);
    } finally {
      await svc.stop('SIGKILL');
    }
    await waitFor(() => processesOf(svc.runMarker).length === 0, {
      timeoutMs: 5000,
      what: () => `the killed service's children to die with it (left: ${processesOf(svc.runMarker).join(', ')})`,
    });
    const again = await startService({}, { dataDir });
    try {
      const after = await again.api('Describe', { TaskID: id! });
      const { RequestID: _a, ...a } = after;
      const { RequestID: _b, ...b } = before as Record<string, unknown>;
      assert.deepEqual(a, b);
      const video = await fetch(after.Result.Videos[0].FileURL.replace(/^http:\/\/127\.0\.0\.1:\d+/, again.url));
      assert.equal(video.status, 200, 'its file is still served');
    } finally {
      await again.stop();
    }
  });

  it('SIGTERM with its Redis already gone: ends in seconds, the file finished and its intermediate kept', async () => {
    // A Redis that stays away (the embedded one would be back at once, being supervised).
    const redis = await startPlainRedis();
    const svc = await startService({ REDIS_URL: redis.url }); // the default 30 s grace: waiting on Redis step by step took 80 s
    const id = (await svc.api('Start', { Width: 640, Height: 360, RecordURL: pages.url('counter.html') })).TaskID as string;
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(3000);
    await redis.kill();
    const t0 = Date.now();
    const ended = await Promise.race([svc.stop('SIGTERM').then(() => true), sleep(40_000).then(() => false)]);
    if (!ended) await svc.stop('SIGKILL');
    assert.ok(ended, 'it ended by itself after SIGTERM');
    assert.ok(Date.now() - t0 < 15_000, `it ended in ${Date.now() - t0} ms`);
    await waitFor(() => processesOf(svc.runMarker).length === 0, { timeoutMs: 10_000, what: 'no processes left' });

    // The recording was finished without Redis: a whole file of what was recorded...
    const dir = join(svc.dataDir, 'files', id);
    const files = readdirSync(dir).filter((f) => f.endsWith('.mp4'));
    assert.equal(files.length, 1, `one finished file in ${dir}`);
    const file = join(dir, files[0]!);
    assert.equal(await decodeErrors(file), '');
    const info = mediaInfo(file);
    assert.ok(info.duration >= 2.5, `${info.duration} s in the file`);
    assert.equal(info.video?.codec, 'h264');
    // ...and, as the task never heard of it, the intermediate recording stays for whoever finishes it.
    assert.ok(readdirSync(join(svc.dataDir, 'cfs', id)).length > 0, 'the intermediate recording is kept');
  });
});
