// The `webrecord` command (package.json "bin") against a running service: `record` makes a file
// that decodes, with its progress shown; the single commands work on a recording; exit codes say
// what went wrong (1 refused, 2 usage, 3 unreachable), and a signed service takes its key pair.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyse, mediaInfo } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { scratchDir } from '../helpers/scratch.js';
import { freePort } from '../../lib/net.js';
import { type RunningService, startService } from '../helpers/service.js';

const BIN = new URL('../../cli/webrecord.mjs', import.meta.url).pathname;
const KEY = { key: 'cli-ops', secret: 'cli-s3cret-0123456789' };

type Ran = { code: number | null; stdout: string; stderr: string };

/** Runs the command as a user would, with only the environment given (plus PATH). */
function webrecord(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let pages: PageServer;
before(async () => {
  pages = await startPageServer();
});
after(() => pages?.close());

describe('the webrecord command', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ API_KEYS: `${KEY.key}:${KEY.secret}` });
  });
  after(() => svc?.stop());
  const env = () => ({ WEBRECORD_URL: svc.url, WEBRECORD_KEY: KEY.key, WEBRECORD_SECRET: KEY.secret });

  it('record URL --seconds 5 --out FILE: shows its progress, and the file decodes: H.264 at the size asked, 5 ± 1 s, ≥ 28 distinct fps, audible', async () => {
    const out = join(scratchDir('cli-record'), 'lesson.mp4');
    const r = await webrecord(['record', pages.url('counter.html'), '--seconds', '5', '--width', '640', '--height', '360', '--out', out], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^task [\w-]+$/m);
    assert.match(r.stdout, new RegExp(`saved ${out}`));
    assert.match(r.stderr, /^recording {2}0:0\d {2}[\d.]+ (KiB|MiB)/m, 'the progress shows recorded time and size');
    assert.match(r.stderr, /^finished {2}\S+\.mp4 0:0[4-6] /m);
    const a = analyse(out);
    assert.equal(a.info.video?.codec, 'h264');
    assert.deepEqual([a.info.video?.width, a.info.video?.height], [640, 360]);
    assert.ok(Math.abs(a.info.duration - 5) <= 1, `duration ${a.info.duration}`);
    assert.ok(a.distinctPerSecond >= 28, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
    assert.ok(a.meanVolumeDb > -40, `audio present (mean ${a.meanVolumeDb} dB)`);
  });

  it('start, describe, pause, resume, stop, watch: one recording driven command by command', async () => {
    const started = await webrecord(['start', pages.url('counter.html'), '--width', '640', '--height', '360', '--hls'], env());
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    await svc.waitForStatus(id, 'recording', 30_000);
    const described = await webrecord(['describe', id], env());
    assert.equal(described.code, 0, described.stderr);
    assert.equal(JSON.parse(described.stdout).TaskID, id);
    for (const command of ['pause', 'resume', 'refresh']) assert.equal((await webrecord([command, id], env())).code, 0, command);
    assert.equal((await webrecord(['stop', id], env())).code, 0);
    const watched = await webrecord(['watch', id], env());
    assert.equal(watched.code, 0, watched.stderr);
    assert.match(watched.stderr, /^finished {2}index\.m3u8 /m);
    const listed = await webrecord(['list', '--limit', '5'], env());
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout.split('\n')[0]!, new RegExp(`^${id}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  finished  index\\.m3u8 `), 'the newest task first');
    assert.doesNotMatch((await webrecord(['list', '--status', 'recording'], env())).stdout, new RegExp(id));
    const badStatus = await webrecord(['list', '--status', 'running'], env());
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /InvalidParam.*Data\.Status/);
    const folder = join(scratchDir('cli-hls'), 'set');
    // The set, downloaded the way `record --hls` does, is whole: its playlist and every segment.
    const recorded = await webrecord(['record', pages.url('counter.html'), '--seconds', '3', '--hls', '--out', folder], env());
    assert.equal(recorded.code, 0, recorded.stderr);
    const playlist = readFileSync(join(folder, 'index.m3u8'), 'utf8');
    const segments = playlist.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(segments.length >= 1 && segments.every((s) => existsSync(join(folder, s))), `segments ${segments.join(' ')}`);
    assert.ok(mediaInfo(join(folder, 'index.m3u8')).duration > 2, 'the downloaded set plays');
  });

  it('exit codes: 1 with the ErrorCode when the service refuses, 2 for a usage mistake, 3 when nothing answers', async () => {
    const missing = await webrecord(['describe', 'no-such-task'], env());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TaskNotFound/);
    const wrongSecret = await webrecord(['describe', 'no-such-task'], { ...env(), WEBRECORD_SECRET: 'wrong' });
    assert.equal(wrongSecret.code, 1);
    assert.match(wrongSecret.stderr, /AuthFailure/);
    const unsigned = await webrecord(['describe', 'no-such-task'], { WEBRECORD_URL: svc.url });
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /AuthFailure/);
    const usage = await webrecord(['start', 'https://a.test/', '--width', 'wide'], env());
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--width wide is not a whole number/);
    assert.equal((await webrecord(['describe', 'x'], { WEBRECORD_URL: svc.url, WEBRECORD_KEY: KEY.key })).code, 2, 'a key without its secret');
    const nobody = await webrecord(['describe', 'x'], { WEBRECORD_URL: `http://127.0.0.1:${await freePort()}` });
    assert.equal(nobody.code, 3);
    assert.match(nobody.stderr, /ECONNREFUSED/);
  });
});
