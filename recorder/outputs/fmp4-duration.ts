// The duration of a fragmented MP4, read in constant time: the track timescales and edit lists from
// the moov at the head, the last fragment's position from the mfra index at the tail, and that
// fragment's decode time plus its sample durations. (ffprobe walks every fragment: 0.6 s for ten
// minutes, so most of a minute for ten hours.)
//
// Every size and offset comes from the file, and a crash leaves exactly the damaged tail they are
// read from: each read is checked against the file's real size (and a plausible maximum) before
// anything is allocated, each field against its box, and any damage is a typed failure.
import { open } from 'node:fs/promises';

/** Random access to the bytes of a file (or, in tests, of a Buffer). */
export type ByteSource = { size: number; read(position: number, length: number): Promise<Buffer> };

export type Fmp4Duration = { ok: true; seconds: number } | { ok: false; reason: string };

// Generous maxima: an empty moov is a few hundred bytes; the index takes ~40 bytes per fragment
// (ten hours: under a megabyte); one fragment's moof only lists its samples.
const HEAD_MAX = 1 << 20;
const MFRA_MAX = 64 << 20;
const MOOF_MAX = 16 << 20;

/** Damage found while parsing; turned into a typed failure at the top, never thrown further. */
class Damaged extends Error {}

/** Seconds, or null when the file is not a finished, intact fragmented MP4 (the caller asks ffprobe). */
export async function fragmentedMp4Duration(path: string): Promise<number | null> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const source: ByteSource = {
        size,
        read: async (position, length) => {
          const buf = Buffer.alloc(length); // within the file: checked by readAt
          const { bytesRead } = await fh.read(buf, 0, length, position);
          return buf.subarray(0, bytesRead);
        },
      };
      const r = await fragmentedMp4DurationOf(source);
      return r.ok ? r.seconds : null;
    } finally {
      await fh.close();
    }
  } catch {
    return null; // unreadable: the same answer as damaged
  }
}

/** The duration from any byte source; never reads beyond `source.size`, never throws on damage. */
export async function fragmentedMp4DurationOf(source: ByteSource): Promise<Fmp4Duration> {
  try {
    const tracks = await readTracks(source);
    if (!tracks.size) return { ok: false, reason: 'no track in a moov at the head' };
    const lastMoof = await lastFragmentOffset(source);
    const end = await fragmentEnd(source, lastMoof, tracks);
    if (!(end > 0) || !Number.isFinite(end)) return { ok: false, reason: 'the last fragment ends at no positive time' };
    return { ok: true, seconds: end };
  } catch (err) {
    if (err instanceof Damaged) return { ok: false, reason: err.message };
    throw err;
  }
}

/** Reads `length` bytes at `position` only if they lie within the file and under `max`. */
async function readAt(source: ByteSource, position: number, length: number, max: number): Promise<Buffer> {
  const fits = Number.isSafeInteger(position) && Number.isSafeInteger(length) && position >= 0 && length >= 0;
  if (!fits || length > max || position + length > source.size) {
    throw new Damaged(`a read of ${length} bytes at ${position} does not fit a file of ${source.size}`);
  }
  return source.read(position, length);
}

type Box = { type: string; start: number; size: number; header: number };

/** The boxes laid end to end in buf[from, to); stops at the first one that does not fit. */
function* boxes(buf: Buffer, from = 0, to = buf.length): Generator<Box> {
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || size > to - at) return;
    yield { type, start: at, size, header };
    at += size;
  }
}

function children(buf: Buffer, parent: Box, type: string): Box[] {
  return [...boxes(buf, parent.start + parent.header, parent.start + parent.size)].filter((b) => b.type === type);
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  return children(buf, parent, type)[0];
}

/** Reads the fields of one box, never past its end. */
class Fields {
  private at: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    box: Box,
  ) {
    this.at = box.start + box.header;
    this.end = box.start + box.size;
  }

  get left(): number {
    return this.end - this.at;
  }

  skip(n: number): this {
    this.take(n);
    return this;
  }

  u8(): number {
    return this.buf[this.take(1)]!;
  }

  u32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  i32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  u64(): number {
    return Number(this.buf.readBigUInt64BE(this.take(8)));
  }

  i64(): number {
    return Number(this.buf.readBigInt64BE(this.take(8)));
  }

  private take(n: number): number {
    if (n < 0 || n > this.left) throw new Damaged('a box is shorter than its fields');
    const p = this.at;
    this.at += n;
    return p;
  }
}

type Track = { timescale: number; defaultDuration: number; startOffset: number };

/** Timescale, default sample duration (trex) and edit-list start of each track, from the moov. */
async function readTracks(source: ByteSource): Promise<Map<number, Track>> {
  const tracks = new Map<number, Track>();
  // The moov follows ftyp at the head; with an empty moov it is small.
  const head = await readAt(source, 0, Math.min(source.size, HEAD_MAX), HEAD_MAX);
  const moov = [...boxes(head)].find((b) => b.type === 'moov');
  if (!moov) return tracks;
  const defaults = new Map<number, number>();
  const mvex = child(head, moov, 'mvex');
  for (const trex of mvex ? children(head, mvex, 'trex') : []) {
    const f = new Fields(head, trex).skip(4);
    const trackId = f.u32();
    defaults.set(trackId, f.skip(4).u32());
  }
  for (const trak of children(head, moov, 'trak')) {
    const tkhd = child(head, trak, 'tkhd');
    const mdia = child(head, trak, 'mdia');
    const mdhd = mdia && child(head, mdia, 'mdhd');
    if (!tkhd || !mdhd) continue;
    const trackId = versioned(new Fields(head, tkhd), 16, 8).u32();
    const timescale = versioned(new Fields(head, mdhd), 16, 8).u32();
    if (!timescale) continue; // no time can be measured in it
    const edts = child(head, trak, 'edts');
    const elst = edts && child(head, edts, 'elst');
    const startOffset = elst ? editStart(new Fields(head, elst)) : 0;
    tracks.set(trackId, { timescale, defaultDuration: defaults.get(trackId) ?? 0, startOffset });
  }
  return tracks;
}

/** Skips a full box's version and flags, then the version's dates (`v1` or `v0` bytes). */
function versioned(f: Fields, v1: number, v0: number): Fields {
  const version = f.u8();
  return f.skip(3).skip(version === 1 ? v1 : v0);
}

/** An edit list that starts into the media (audio priming) moves the track's presentation earlier. */
function editStart(f: Fields): number {
  const version = f.u8();
  if (!f.skip(3).u32()) return 0;
  const mediaTime = version === 1 ? f.skip(8).i64() : f.skip(4).i32();
  return mediaTime > 0 ? mediaTime : 0;
}

/** Where the last fragment starts, from the fragment index (mfra) that mfro at the very end sizes. */
async function lastFragmentOffset(source: ByteSource): Promise<number> {
  if (source.size < 16) throw new Damaged('too short for a fragment index');
  const tail = await readAt(source, source.size - 16, 16, 16);
  if (tail.readUInt32BE(0) !== 16 || tail.toString('latin1', 4, 8) !== 'mfro') throw new Damaged('no mfro at the end');
  const mfraSize = tail.readUInt32BE(12);
  const mfraBuf = await readAt(source, source.size - mfraSize, mfraSize, MFRA_MAX);
  const mfra = [...boxes(mfraBuf)][0];
  if (!mfra || mfra.type !== 'mfra') throw new Damaged('mfro does not point at an mfra');
  let last = -1;
  for (const tfra of children(mfraBuf, mfra, 'tfra')) last = Math.max(last, lastEntryOffset(new Fields(mfraBuf, tfra)));
  if (last < 0) throw new Damaged('the fragment index is empty');
  return last;
}

function lastEntryOffset(f: Fields): number {
  const version = f.u8();
  const lengths = f.skip(3).skip(4).u32(); // after the track id
  const count = f.u32();
  if (!count) return -1;
  const timeAndOffset = version === 1 ? 16 : 8;
  const numbers = ((lengths >> 4) & 3) + 1 + (((lengths >> 2) & 3) + 1) + ((lengths & 3) + 1);
  const entry = timeAndOffset + numbers;
  if (count > f.left / entry) throw new Damaged('tfra lists more entries than it holds');
  f.skip((count - 1) * entry);
  return version === 1 ? f.skip(8).u64() : f.skip(4).u32();
}

/** Where the fragment at `offset` ends, in seconds of presentation (the latest of its tracks). */
async function fragmentEnd(source: ByteSource, offset: number, tracks: Map<number, Track>): Promise<number> {
  const head = await readAt(source, offset, Math.min(16, source.size - offset), 16);
  const declared = head.length >= 8 ? head.readUInt32BE(0) : 0;
  if (head.length < 8 || head.toString('latin1', 4, 8) !== 'moof') throw new Damaged('the index does not point at a moof');
  const moofBuf = await readAt(source, offset, declared, MOOF_MAX);
  const moof = [...boxes(moofBuf)][0];
  if (!moof || moof.type !== 'moof') throw new Damaged('the last moof is cut short');
  let end = 0;
  for (const traf of children(moofBuf, moof, 'traf')) {
    const r = trafEnd(moofBuf, traf, tracks);
    if (r !== null) end = Math.max(end, r);
  }
  return end;
}

/** Where the fragment's run of this track ends, in seconds of presentation. */
function trafEnd(buf: Buffer, traf: Box, tracks: Map<number, Track>): number | null {
  const tfhd = child(buf, traf, 'tfhd');
  const tfdt = child(buf, traf, 'tfdt');
  if (!tfhd || !tfdt) return null;
  const h = new Fields(buf, tfhd);
  const tfhdFlags = h.u32() & 0xffffff;
  const track = tracks.get(h.u32());
  if (!track) return null;
  if (tfhdFlags & 0x1) h.skip(8); // base data offset
  if (tfhdFlags & 0x2) h.skip(4); // sample description index
  const defaultDuration = tfhdFlags & 0x8 ? h.u32() : track.defaultDuration;

  const d = new Fields(buf, tfdt);
  let time = d.u8() === 1 ? d.skip(3).u64() : d.skip(3).u32();
  for (const trun of children(buf, traf, 'trun')) time += runDuration(new Fields(buf, trun), defaultDuration);
  return (time - track.startOffset) / track.timescale;
}

/** The summed sample durations of a trun; its count is checked against the bytes it has. */
function runDuration(f: Fields, defaultDuration: number): number {
  const flags = f.u32() & 0xffffff;
  const count = f.u32();
  if (flags & 0x1) f.skip(4); // data offset
  if (flags & 0x4) f.skip(4); // first sample flags
  const stride = [0x100, 0x200, 0x400, 0x800].filter((x) => flags & x).length * 4;
  if (!(flags & 0x100)) {
    if (stride && count > f.left / stride) throw new Damaged('trun lists more samples than it holds');
    return count * defaultDuration;
  }
  if (count > f.left / stride) throw new Damaged('trun lists more samples than it holds');
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sum += f.u32(); // the duration comes first of a sample's fields
    f.skip(stride - 4);
  }
  return sum;
}
