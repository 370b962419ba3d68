// ffmpeg and ffprobe children are bounded: one that runs too long, stops making progress or writes
// too much is killed and reported as a typed failure; one that keeps reporting progress runs on.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findMarked } from '../../lib/child-process.js';
import { probe } from '../../recorder/ffmpeg/probe.js';
import { FfmpegError, type FfmpegFailure, runTool } from '../../recorder/ffmpeg/run.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('ffmpeg-bounds');

/** A live source read at its own pace: `seconds` of wall time, printing nothing at -v error. */
const realtime = (seconds: number) => ['-hide_banner', '-nostdin', '-v', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=64x64:rate=10:duration=${seconds}`, '-f', 'null', '-'];

/** A fifo nobody writes: a reader of it blocks forever, as on a hung mount. */
function stalledInput(): string {
  const fifo = join(dir, `fifo-${randomUUID()}`);
  execFileSync('mkfifo', [fifo]);
  return fifo;
}

async function failure(run: Promise<unknown>): Promise<FfmpegError> {
  const err = await run.then(
    () => assert.fail('the run should have been killed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FfmpegError, `a typed failure, not ${String(err)}`);
  return err;
}

async function killedFor(reason: FfmpegFailure, args: string[], opts: Parameters<typeof runTool>[3], withinMs: number, tool = 'ffmpeg'): Promise<void> {
  const marker = { WEBRECORD_TEST: randomUUID() };
  const t0 = Date.now();
  const err = await failure(runTool(tool, args, marker, opts));
  assert.equal(err.reason, reason, err.message);
  assert.ok(Date.now() - t0 < withinMs, `killed after ${Date.now() - t0} ms`);
  assert.deepEqual(findMarked(marker), [], 'the child is gone');
}

describe('bounds of ffmpeg and ffprobe children', () => {
  it('a child past its time bound is killed: timeout', async () => {
    await killedFor('timeout', realtime(60), { timeoutMs: 500 }, 5000);
  });

  it('a child that makes no progress is killed: stalled', async () => {
    await killedFor('stalled', ['-v', 'error', '-f', 'matroska', '-i', stalledInput(), '-f', 'null', '-'], { idleMs: 500 }, 5000);
    // ffmpeg at -v error prints nothing while it works: without progress reports it looks stalled too.
    await killedFor('stalled', realtime(60), { idleMs: 500 }, 5000);
  });

  it('a child that keeps reporting progress runs past the idle bound', async () => {
    const marker = { WEBRECORD_TEST: randomUUID() };
    const t0 = Date.now();
    const args = ['-progress', 'pipe:1', '-stats_period', '0.1', ...realtime(2)];
    const r = await runTool('ffmpeg', args, marker, { idleMs: 700, stdout: 'progress' });
    assert.ok(Date.now() - t0 > 1500, 'it ran its whole course');
    assert.equal(r.stdout.length, 0, 'progress reports are not kept');
  });

  it('a child that writes more than its output bound is killed: output', async () => {
    const args = ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10:duration=60', '-f', 'rawvideo', 'pipe:1'];
    await killedFor('output', args, { maxStdout: 64 * 1024 }, 5000);
  });

  it('an aborted child is killed: aborted', async () => {
    await killedFor('aborted', realtime(60), { signal: AbortSignal.timeout(300) }, 5000);
  });

  it('ffprobe past its bound is a typed answer, not a throw', async () => {
    const marker = { WEBRECORD_TEST: randomUUID() };
    const p = await probe('ffprobe', stalledInput(), marker, { timeoutMs: 500 });
    assert.equal(p.ok, false);
    assert.match(p.ok ? '' : p.reason, /killed/);
    assert.equal(p.durationSeconds, null);
    assert.deepEqual(findMarked(marker), []);
  });
});
