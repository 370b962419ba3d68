// Real recordings made by real ffmpeg for the media readers' tests, and the ways a crash or a bad
// disk damages them: a cut (truncation), flipped bytes, a size field turned huge.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

const AV = (seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=30:duration=${seconds}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`];
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-pix_fmt', 'yuv420p'];

/** A fragmented MP4 laid out as the service writes it (recorder/outputs/mp4.ts): H.264 + AAC. */
export function fragmentedMp4(dir: string, name: string, seconds: number): string {
  const out = join(dir, name);
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...AV(seconds), ...H264, '-c:a', 'aac', '-ac', '2', '-movflags', '+frag_keyframe+empty_moov+default_base_moof', out]);
  return out;
}

export type Cluster = { offset: number; seconds: number };

/**
 * A stand-in for the intermediate file Chromium's MediaRecorder writes (video/x-matroska;
 * codecs=avc1,opus): H.264 with a keyframe every 2 s and Opus, streamed (a Segment of unknown
 * size, no cues), one cluster per keyframe, each cluster of unknown size as a live muxer writes it.
 */
export function intermediateMkv(dir: string, name: string, seconds: number): { path: string; clusters: Cluster[] } {
  const bytes = execFileSync(
    'ffmpeg',
    ['-v', 'error', ...AV(seconds), ...H264, '-c:a', 'libopus', '-ac', '2', '-cluster_time_limit', '1900', '-cluster_size_limit', '100000000', '-write_crc32', '0', '-f', 'matroska', '-'],
    { maxBuffer: 1 << 28 },
  );
  const clusters = clustersOf(bytes);
  for (const c of clusters) unknownSize(bytes, c.offset + 4);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, clusters };
}

/** EBML variable-length integer at `at`: its length and value (null: all ones, "unknown"). */
function vint(buf: Buffer, at: number): { length: number; value: number | null } {
  const first = buf[at]!;
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  let value = first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + buf[at + i]!;
    allOnes &&= buf[at + i] === 0xff;
  }
  return { length, value: allOnes ? null : value };
}

function elementId(buf: Buffer, at: number): { length: number; id: number } {
  const { length } = vint(buf, at);
  return { length, id: buf.readUIntBE(at, length) };
}

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const TIMESTAMP = 0xe7;

/** The clusters of an ffmpeg-written Matroska file (every size known but the Segment's). */
export function clustersOf(buf: Buffer): Cluster[] {
  const out: Cluster[] = [];
  let at = 0;
  while (at < buf.length) {
    const { length: idLength, id } = elementId(buf, at);
    const size = vint(buf, at + idLength);
    const body = at + idLength + size.length;
    if (id === SEGMENT) {
      at = body; // walk into it
      continue;
    }
    if (id === CLUSTER) {
      const t = elementId(buf, body);
      if (t.id !== TIMESTAMP) throw new Error('a cluster that does not start with its timestamp');
      const tSize = vint(buf, body + t.length);
      out.push({ offset: at, seconds: buf.readUIntBE(body + t.length + tSize.length, tSize.value!) / 1000 });
    }
    if (size.value === null) throw new Error(`an element of unknown size at ${at}`);
    at = body + size.value;
  }
  return out;
}

function unknownSize(buf: Buffer, at: number): void {
  const { length } = vint(buf, at);
  buf[at] = 0xff >> (length - 1);
  buf.fill(0xff, at + 1, at + length);
}

/** Presentation end (s) of the last packet that lies wholly before `offset`, over all streams. */
export function mediaEndBefore(path: string, offset: number): number {
  const csv = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=pts_time,duration_time,pos,size', '-of', 'csv=p=0', path]).toString();
  let end = 0;
  for (const line of csv.trim().split('\n')) {
    const [pts, duration, size, pos] = line.split(',').map(Number) as [number, number, number, number];
    if (pos + size <= offset && Number.isFinite(pts)) end = Math.max(end, pts + (Number.isFinite(duration) ? duration : 0));
  }
  return end;
}

export type Damage = { cut: number; flips: { at: number; value: number }[] };

/** Applies a damage to a copy of `bytes`: flipped bytes first, then the cut. */
export function damaged(bytes: Buffer, d: Damage): Buffer {
  const out = Buffer.from(bytes);
  for (const f of d.flips) if (f.at < out.length) out[f.at] = f.value;
  return out.subarray(0, Math.min(d.cut, out.length));
}

/**
 * Random damage to a file of `size` bytes: a cut anywhere (or none), and a few bytes overwritten,
 * half of them inside the `hot` ranges, where the structure a reader trusts lives (the boxes at the
 * head and the tail, the headers of packets), and values biased to the ones that fool size fields.
 */
export function damageOf(size: number, hot: [number, number][] = []): fc.Arbitrary<Damage> {
  const anywhere = fc.integer({ min: 0, max: size - 1 });
  const inHot = hot.map(([from, to]) => fc.integer({ min: Math.max(0, from), max: Math.min(size, to) - 1 }));
  const at = inHot.length ? fc.oneof(anywhere, ...inHot) : anywhere;
  const value = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 1, 0x7f, 0x80, 0xff));
  return fc.record({
    cut: fc.oneof(fc.constant(size), fc.integer({ min: 0, max: size }), ...hot.map(([from, to]) => fc.integer({ min: Math.max(0, from), max: Math.min(size, to) }))),
    flips: fc.array(fc.record({ at, value }), { minLength: 0, maxLength: 8 }),
  });
}
