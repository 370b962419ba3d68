// The constant-time duration of a fragmented MP4 agrees with ffprobe (which reads every fragment),
// and a damaged file (a crash leaves its tail damaged) is a typed failure, never a crash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FfmpegArgs } from '../../recorder/ffmpeg/args.js';
import { type ByteSource, fragmentedMp4Duration, fragmentedMp4DurationOf } from '../../recorder/outputs/fmp4-duration.js';
import { damaged, damageOf } from '../helpers/media-samples.js';
import { scratchDir } from '../helpers/scratch.js';

const dir = scratchDir('fmp4');

/** A test clip made by real ffmpeg: H.264 with a keyframe every 2 s and AAC, 48 kHz stereo. */
function clip(name: string, seconds: number, movflags: string[]): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x240:rate=30:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '60',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-ac',
    '2',
    ...(movflags.length ? ['-movflags', movflags.join('')] : []),
    out,
  ]);
  return out;
}

const ffprobeDuration = (f: string) => Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', f]).toString());

describe('fragmented MP4 duration from the tail', () => {
  it('matches ffprobe, for the layout the service writes', async () => {
    // The same flags as recorder/outputs/mp4.ts.
    const flags = new FfmpegArgs()
      .input('x')
      .output('y', { format: 'mp4', movflags: ['+frag_keyframe', '+empty_moov', '+default_base_moof'] })
      .toArgs();
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

// A crash leaves a damaged tail, and the tail is exactly where the index this reader trusts lives.
// Every size and offset it reads from the file must be checked against the file before it is used.

type TopBox = { type: string; start: number; size: number };

function topBoxes(buf: Buffer): TopBox[] {
  const out: TopBox[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), start: at, size });
    if (size < 8) break;
    at += size;
  }
  return out;
}

/** The first box of `type` directly inside [from, to). */
function inner(buf: Buffer, from: number, to: number, type: string): number {
  for (let at = from; at + 8 <= to; at += buf.readUInt32BE(at)) if (buf.toString('latin1', at + 4, at + 8) === type) return at;
  throw new Error(`no ${type}`);
}

/** A byte source over a Buffer that records the largest single read it was asked for. */
function recordingSource(bytes: Buffer): ByteSource & { largest: number; beyond: boolean } {
  const s = {
    size: bytes.length,
    largest: 0,
    beyond: false,
    read: async (position: number, length: number) => {
      s.largest = Math.max(s.largest, length);
      if (position < 0 || position + length > bytes.length) s.beyond = true;
      return Buffer.from(bytes.subarray(position, position + length));
    },
  };
  return s;
}

describe('fragmented MP4 duration of a damaged file', () => {
  const original = clip('damage-me.mp4', 3, ['+frag_keyframe+empty_moov+default_base_moof']);
  const bytes = readFileSync(original);
  const size = bytes.length;
  const boxes = topBoxes(bytes);
  const moov = boxes.find((b) => b.type === 'moov')!;
  const lastMoof = boxes.filter((b) => b.type === 'moof').at(-1)!;
  const mfra = boxes.find((b) => b.type === 'mfra')!;
  const tfra = inner(bytes, mfra.start + 8, mfra.start + mfra.size, 'tfra');
  const traf = inner(bytes, lastMoof.start + 8, lastMoof.start + lastMoof.size, 'traf');
  const trun = inner(bytes, traf + 8, traf + bytes.readUInt32BE(traf), 'trun');

  /** Field edits a damaged tail makes, each a size or an offset the reader used to trust. */
  const damages: Record<string, (b: Buffer) => void> = {
    'mfro names an mfra of 4 GB': (b) => b.writeUInt32BE(0xfffffff0, size - 4),
    'mfro names an mfra larger than the file': (b) => b.writeUInt32BE(size + 1, size - 4),
    'mfro names an mfra of 0 bytes': (b) => b.writeUInt32BE(0, size - 4),
    'mfro itself claims 4 GB': (b) => b.writeUInt32BE(0xfffffff0, size - 16),
    'mfra claims 4 GB': (b) => b.writeUInt32BE(0xfffffff0, mfra.start),
    'mfra claims a 64-bit size': (b) => b.writeUInt32BE(1, mfra.start),
    'tfra lists 4 billion entries': (b) => b.writeUInt32BE(0xfffffff0, tfra + 20),
    'the index points past the end': (b) => b.writeBigUInt64BE(0xfffffff000000000n, tfra + 8 + 16 + (b.readUInt32BE(tfra + 20) - 1) * 19 + 8),
    'the last moof claims 4 GB': (b) => b.writeUInt32BE(0xfffffff0, lastMoof.start),
    'the last trun lists 4 billion samples': (b) => b.writeUInt32BE(0xfffffff0, trun + 12),
    'the moov claims 4 GB': (b) => b.writeUInt32BE(0xfffffff0, moov.start),
  };

  it('each damaged size is a typed failure (null), with no allocation beyond the file size', async () => {
    assert.equal(bytes[tfra + 8], 1, 'ffmpeg writes tfra version 1 (64-bit times and offsets)');
    for (const [name, damage] of Object.entries(damages)) {
      const b = Buffer.from(bytes);
      damage(b);
      const f = join(dir, 'damaged.mp4');
      writeFileSync(f, b);
      const { result, largest } = await measuringAllocations(() => fragmentedMp4Duration(f));
      assert.equal(result, null, name);
      assert.ok(largest > 0 && largest <= size, `${name}: allocated ${largest} bytes for a file of ${size}`);
      const source = recordingSource(b);
      const r = await fragmentedMp4DurationOf(source);
      assert.equal(r.ok, false, name);
      assert.ok(!source.beyond && source.largest <= size, `${name}: read ${source.largest} bytes of ${size}`);
    }
  });

  it('a tail cut short by a crash is null, so the caller asks ffprobe', async () => {
    for (const cut of [1, 4, 8, 16, 17, mfra.size, mfra.size + 100, size - lastMoof.start]) {
      const f = join(dir, 'cut.mp4');
      writeFileSync(f, bytes.subarray(0, size - cut));
      assert.equal(await fragmentedMp4Duration(f), null, `cut ${cut}`);
    }
  });

  it('a missing or empty file is null, not a throw', async () => {
    assert.equal(await fragmentedMp4Duration(join(dir, 'nowhere.mp4')), null);
    writeFileSync(join(dir, 'empty.mp4'), '');
    assert.equal(await fragmentedMp4Duration(join(dir, 'empty.mp4')), null);
  });

  it('fuzzed: random cuts and byte flips give a duration or a typed failure, never a throw or a read past the end', async () => {
    const intact = await fragmentedMp4DurationOf(recordingSource(bytes));
    assert.ok(intact.ok && Math.abs(intact.seconds - 3) < 0.1);
    // Where the reader looks: the head, the last fragment's moof, the index at the tail.
    const hot: [number, number][] = [
      [0, moov.start + moov.size],
      [lastMoof.start, lastMoof.start + lastMoof.size],
      [mfra.start, size],
    ];
    await fc.assert(
      fc.asyncProperty(damageOf(size, hot), async (d) => {
        const source = recordingSource(damaged(bytes, d));
        const r = await fragmentedMp4DurationOf(source);
        assert.ok(!source.beyond, 'read past the end');
        assert.ok(source.largest <= source.size, `read ${source.largest} bytes of ${source.size}`);
        if (r.ok) assert.ok(Number.isFinite(r.seconds) && r.seconds > 0, `duration ${r.seconds}`);
        else assert.equal(typeof r.reason, 'string');
      }),
      { numRuns: 1000 },
    );
  });
});

/** Runs `f`, recording the largest Buffer.alloc/allocUnsafe it (or anything meanwhile) asked for. */
async function measuringAllocations<T>(f: () => Promise<T>): Promise<{ result: T; largest: number }> {
  const { alloc, allocUnsafe } = Buffer;
  let largest = 0;
  const measured = <F extends (size: number, ...rest: never[]) => Buffer>(original: F) =>
    ((size: number, ...rest: never[]) => {
      largest = Math.max(largest, size);
      return original.call(Buffer, size, ...rest);
    }) as F;
  Buffer.alloc = measured(alloc);
  Buffer.allocUnsafe = measured(allocUnsafe);
  try {
    return { result: await f(), largest };
  } finally {
    Buffer.alloc = alloc;
    Buffer.allocUnsafe = allocUnsafe;
  }
}
