// The A/V offset measurement itself, on files made with a known offset: the figures the benchmarks
// report (and a past bug: a one-frame shift from misread frame times) depend on it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { avOffsetMs } from '../helpers/media.js';

const dir = mkdtempSync(join(tmpdir(), 'webrecord-av-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 6 s like the test page: a block at x=1200 flashes and a beep sounds for 200 ms each second, the beep `delayMs` later. */
function make(name: string, delayMs: number, audioCodec: string[]): string {
  const file = join(dir, name);
  const d = delayMs / 1000;
  execFileSync('ffmpeg', [
    ...['-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', "color=black:s=1280x720:r=30,drawbox=x=1200:y=0:w=80:h=40:color=white:t=fill:enable='lt(mod(t\\,1)\\,0.2)'"],
    ...['-f', 'lavfi', '-i', `aevalsrc='if(between(mod(t-${d}\\,1)\\,0\\,0.2)*gte(t\\,${d})\\,0.5*sin(2*PI*440*t)\\,0)':s=48000:c=stereo`],
    ...['-t', '6', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', ...audioCodec, file],
  ]);
  return file;
}

describe('A/V offset measurement', () => {
  it('measures 0 on exactly aligned beeps and flashes', () => {
    const r = avOffsetMs(make('aligned.mkv', 0, ['-c:a', 'pcm_s16le']));
    assert.ok(r && r.matched >= 5, JSON.stringify(r));
    assert.ok(Math.abs(r.median) <= 2, `measured ${r.median} ms`);
  });

  it('measures audio that comes 100 ms late as +100', () => {
    const r = avOffsetMs(make('late.mkv', 100, ['-c:a', 'pcm_s16le']));
    assert.ok(r && r.matched >= 5, JSON.stringify(r));
    assert.ok(Math.abs(r.median - 100) <= 2, `measured ${r.median} ms`);
  });

  it('is not thrown off by a codec with priming and a start offset (Opus, AAC in MP4)', () => {
    const opus = avOffsetMs(make('opus.mkv', 0, ['-c:a', 'libopus']));
    const aac = avOffsetMs(make('aac.mp4', 0, ['-c:a', 'aac']));
    assert.ok(opus && Math.abs(opus.median) <= 10, `opus ${JSON.stringify(opus)}`);
    assert.ok(aac && Math.abs(aac.median) <= 10, `aac ${JSON.stringify(aac)}`);
  });
});
