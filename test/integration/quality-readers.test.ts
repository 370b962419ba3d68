// The quality report's readers (recorder/quality/): the Matroska frame walker against ffprobe on a
// stand-in for Chromium's intermediate file, split at every kind of chunk boundary and damaged; the
// silence marks of the live ffmpeg's real filter; the still-picture and stretch arithmetic.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Block, MatroskaBlocks } from '../../recorder/quality/matroska-blocks.js';
import { QualityMeter } from '../../recorder/quality/quality-meter.js';
import { Silences, silenceFilter } from '../../recorder/quality/silences.js';
import { StillPictures } from '../../recorder/quality/still-pictures.js';
import { MAX_LISTED, Stretches } from '../../recorder/quality/stretches.js';
import { damaged, damageOf, intermediateMkv } from '../helpers/media-samples.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('quality-readers');
const recording = intermediateMkv(dir, 'recording.mkv', 6);
const bytes = readFileSync(recording.path);

/** ffprobe's packets of the file, per stream kind: time (ms), keyframe, size. */
function probed(kind: 'v' | 'a'): { time: number; key: boolean; bytes: number }[] {
  const csv = execFileSync('ffprobe', ['-v', 'error', '-select_streams', `${kind}:0`, '-show_entries', 'packet=pts_time,size,flags', '-of', 'csv=p=0', recording.path]).toString();
  return csv
    .trim()
    .split('\n')
    .map((l) => {
      const [pts, size, flags] = l.split(',');
      return { time: Math.round(Number(pts) * 1000), key: flags!.startsWith('K'), bytes: Number(size) };
    });
}

function walk(chunks: Buffer[]): { blocks: Block[]; failed: string | null } {
  const blocks: Block[] = [];
  const m = new MatroskaBlocks((b) => blocks.push(b));
  for (const c of chunks) m.push(c);
  return { blocks, failed: m.failed };
}

/** `buf` cut at the given offsets. */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, buf.length]) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  return out;
}

describe('MatroskaBlocks: every frame of the stream, as ffprobe sees them', () => {
  const video = probed('v');
  const audio = probed('a').map(({ time, bytes }) => ({ time, bytes }));
  const pick = (bs: Block[], kind: string) => {
    const of = bs.filter((b) => b.kind === kind);
    if (kind === 'video') return of.map((b) => ({ time: Math.round(b.time), key: b.key, bytes: b.bytes }));
    // ffprobe moves Opus back by its codec delay (its pre-skip), and reads a keyframe flag into the
    // last block (a Block, which carries none): the stream's own times and sizes are what count.
    const shift = of.length ? Math.round(of[0]!.time) - audio[0]!.time : 0;
    return of.map((b) => ({ time: Math.round(b.time) - shift, bytes: b.bytes }));
  };

  it('in one piece (clusters and segment of unknown size, as MediaRecorder writes them)', () => {
    const { blocks, failed } = walk([bytes]);
    assert.equal(failed, null);
    assert.ok(video.length >= 170, `ffprobe sees ${video.length} video frames`);
    assert.deepEqual(pick(blocks, 'video'), video);
    assert.deepEqual(pick(blocks, 'audio'), audio);
  });

  it('cut anywhere into chunks, even one byte at a time: the same frames', () => {
    const one = walk(
      split(
        bytes,
        Array.from({ length: 4000 }, (_, i) => i),
      ),
    );
    assert.deepEqual(pick(one.blocks, 'video'), video);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 200 }), (cuts) => {
        const { blocks, failed } = walk(split(bytes, cuts));
        assert.equal(failed, null);
        assert.deepEqual(pick(blocks, 'video'), video);
        assert.deepEqual(pick(blocks, 'audio'), audio);
      }),
      { numRuns: 60 },
    );
  });

  it('damaged or not Matroska at all: it never throws, and what it says it read is bounded by the bytes', () => {
    fc.assert(
      fc.property(damageOf(bytes.length, [[0, 400]]), fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 20 }), (d, cuts) => {
        const { blocks } = walk(split(damaged(bytes, d), cuts));
        for (const b of blocks) assert.ok(b.bytes >= 0 && b.bytes <= bytes.length && Number.isFinite(b.time));
      }),
      { numRuns: 200 },
    );
    assert.match(walk([Buffer.alloc(16, 0)]).failed ?? '', /not Matroska/);
    assert.match(walk([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0xff])]).failed ?? '', /unknown size/);
  });

  it('the meter reports the frame rate and longest gap of what it read', () => {
    const m = new QualityMeter();
    for (const c of split(bytes, [1000, 50_000, 120_000])) void m.write(c);
    const q = m.report(6, false);
    assert.ok(Math.abs(q.Fps! - video.length / 6) < 0.01, `Fps ${q.Fps}`);
    let gap = 0;
    for (let i = 1; i < video.length; i++) gap = Math.max(gap, video[i]!.time - video[i - 1]!.time);
    assert.equal(q.LongestFrameGap, gap / 1000);
    assert.equal(q.Frozen, null, 'no picture samples: not measured');
    assert.equal(q.Silent, null, 'no live ffmpeg to the end: not measured');
  });
});

describe('Silences: the live ffmpeg filter marks silence, and the marks are read back', () => {
  it('a tone, 6 s of silence, a tone, 7 s of silence to the end: two stretches, the last closed at the end', () => {
    const src = join(dir, 'tone.mka');
    execFileSync('ffmpeg', [
      '-v', 'error', '-y',
      '-f', 'lavfi', '-i', 'sine=f=440:d=4:sample_rate=48000',
      '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo:d=6',
      '-f', 'lavfi', '-i', 'sine=f=440:d=3:sample_rate=48000',
      '-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo:d=7',
      '-filter_complex', '[0]aformat=channel_layouts=stereo[a0];[2]aformat=channel_layouts=stereo[a2];[a0][1][a2][3]concat=n=4:v=0:a=1',
      '-c:a', 'libopus', src,
    ]); // prettier-ignore
    // As the live muxer runs it: the filter on the AAC output, its marks on file descriptor 4.
    const marks = execFileSync('bash', ['-c', `ffmpeg -v error -y -i "$0" -af "$1" -c:a aac -f mp4 /dev/null 4>&1 1>/dev/null`, src, silenceFilter(4)]).toString();
    const s = new Silences();
    for (const line of marks.split('\n')) s.line(line);
    const r = s.report(20);
    assert.equal(r.Count, 2, marks);
    // Opus smears the tone's end by a few tens of ms; the filter needs the level under its threshold.
    assert.ok(Math.abs(r.List[0]!.Start - 4) < 0.15 && Math.abs(r.List[0]!.Duration - 6) < 0.15, JSON.stringify(r));
    assert.ok(Math.abs(r.List[1]!.Start - 13) < 0.15 && Math.abs(r.List[1]!.Duration - 7) < 0.15, JSON.stringify(r));
  });

  it('ignores what is not a mark, and an end without a start', () => {
    const s = new Silences();
    for (const line of ['frame:1 pts:2 pts_time:0.1', 'lavfi.silence_end=3', 'garbage', 'lavfi.silence_start=x', 'lavfi.silence_start=10', 'lavfi.silence_end=12']) s.line(line);
    assert.deepEqual(s.report(30), { Count: 0, TotalSeconds: 0, List: [] });
  });
});

describe('StillPictures and Stretches', () => {
  it('a stretch runs from the sample that showed a new picture to the next that did; 5 s or more are kept', () => {
    const p = new StillPictures();
    const at: number[] = [];
    const changed: number[] = [];
    // Changing every sample for 2 s, still for 6 s, changing for 1 s, still 4 s (too short), changing to 14 s.
    for (let t = 0; t <= 14_000; t += 250) {
      at.push(t);
      changed.push(t <= 2000 || (t >= 8000 && t <= 9000) || t >= 13_000 ? 1 : 0);
    }
    p.add({ at: at.slice(0, 20), changed: changed.slice(0, 20) });
    p.add({ at: at.slice(20), changed: changed.slice(20) });
    assert.deepEqual(p.report(14), { Count: 1, TotalSeconds: 6, List: [{ Start: 2, Duration: 6 }] });
  });

  it('a picture still to the end is closed at the end; samples out of order are dropped', () => {
    const p = new StillPictures();
    p.add({ at: [0, 250, 500, 100, 5000], changed: [1, 1, 0, 1, 0] });
    assert.deepEqual(p.report(9.5), { Count: 1, TotalSeconds: 9.25, List: [{ Start: 0.25, Duration: 9.25 }] });
  });

  it(`lists at most ${MAX_LISTED}, counts and sums all`, () => {
    const s = new Stretches();
    for (let i = 0; i < MAX_LISTED + 5; i++) s.add(i * 10, i * 10 + 6);
    s.add(0, 4.99);
    const r = s.report();
    assert.equal(r.Count, MAX_LISTED + 5);
    assert.equal(r.List.length, MAX_LISTED);
    assert.equal(r.TotalSeconds, (MAX_LISTED + 5) * 6);
  });
});
