// The constant-time duration of a fragmented MP4 agrees with ffprobe (which reads every fragment).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FfmpegArgs } from '../../recorder/ffmpeg/args.js';
import { fragmentedMp4Duration } from '../../recorder/outputs/fmp4-duration.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('fmp4');

/** A test clip made by real ffmpeg: H.264 with a keyframe every 2 s and AAC, 48 kHz stereo. */
function clip(name: string, seconds: number, movflags: string[]): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-ac', '2',
    ...(movflags.length ? ['-movflags', movflags.join('')] : []),
    out,
  ]);
  return out;
}

const ffprobeDuration = (f: string) => Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', f]).toString());

describe('fragmented MP4 duration from the tail', () => {
  it('matches ffprobe, for the layout the service writes', async () => {
    // The same flags as recorder/outputs/mp4.ts.
    const flags = new FfmpegArgs().input('x').output('y', { format: 'mp4', movflags: ['+frag_keyframe', '+empty_moov', '+default_base_moof'] }).toArgs();
    const movflags = flags[flags.indexOf('-movflags') + 1]!;
    for (const seconds of [3, 13.5]) {
      const f = clip(`frag-${seconds}.mp4`, seconds, [movflags]);
      const d = await fragmentedMp4Duration(f);
      assert.ok(d !== null);
      assert.ok(Math.abs(d - ffprobeDuration(f)) < 0.001, `${d} vs ffprobe ${ffprobeDuration(f)}`);
      assert.ok(Math.abs(d - seconds) < 0.1);
    }
  });

  it('says null for a file without a fragment index (the caller asks ffprobe then)', async () => {
    assert.equal(await fragmentedMp4Duration(clip('plain.mp4', 2, [])), null);
    assert.equal(await fragmentedMp4Duration(clip('no-index.mp4', 2, ['+frag_keyframe+empty_moov+skip_trailer'])), null);
  });
});
