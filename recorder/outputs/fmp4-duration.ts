// The duration of a fragmented MP4, read in constant time: the track timescales and edit lists from
// the moov at the head, the last fragment's position from the mfra index at the tail, and that
// fragment's decode time plus its sample durations. (ffprobe walks every fragment: 0.6 s for ten
// minutes, so most of a minute for ten hours.)
import { open, type FileHandle } from 'node:fs/promises';

type Box = { type: string; start: number; size: number; header: number };

function* boxes(buf: Buffer, from = 0, to = buf.length): Generator<Box> {
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) return;
    yield { type, start: at, size, header };
    at += size;
  }
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  for (const b of boxes(buf, parent.start + parent.header, parent.start + parent.size)) if (b.type === type) return b;
  return undefined;
}

function children(buf: Buffer, parent: Box, type: string): Box[] {
  return [...boxes(buf, parent.start + parent.header, parent.start + parent.size)].filter((b) => b.type === type);
}

async function read(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

type Track = { timescale: number; defaultDuration: number; startOffset: number };

/** Seconds, or null when the file is not a finished fragmented MP4 (no mfra index). */
export async function fragmentedMp4Duration(path: string): Promise<number | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const tracks = await readTracks(fh, size);
    if (!tracks.size) return null;

    const tail = await read(fh, size - 16, 16);
    if (tail.length < 16 || tail.toString('latin1', 4, 8) !== 'mfro') return null;
    const mfraSize = tail.readUInt32BE(12);
    const mfraBuf = await read(fh, size - mfraSize, mfraSize);
    const mfra = [...boxes(mfraBuf)][0];
    if (!mfra || mfra.type !== 'mfra') return null;
    let lastMoof = -1;
    for (const tfra of children(mfraBuf, mfra, 'tfra')) lastMoof = Math.max(lastMoof, lastEntryOffset(mfraBuf, tfra));
    if (lastMoof < 0) return null;

    const head = await read(fh, lastMoof, 16);
    if (head.toString('latin1', 4, 8) !== 'moof') return null;
    const moofBuf = await read(fh, lastMoof, head.readUInt32BE(0));
    const moof = [...boxes(moofBuf)][0]!;
    let end = 0;
    for (const traf of children(moofBuf, moof, 'traf')) {
      const r = trafEnd(moofBuf, traf, tracks);
      if (r) end = Math.max(end, r);
    }
    return end > 0 ? end : null;
  } finally {
    await fh.close();
  }
}

/** Timescale, default sample duration (trex) and edit-list start of each track, from the moov. */
async function readTracks(fh: FileHandle, fileSize: number): Promise<Map<number, Track>> {
  const tracks = new Map<number, Track>();
  // The moov follows ftyp at the head; with an empty moov it is small.
  const headBuf = await read(fh, 0, Math.min(fileSize, 1 << 20));
  const moov = [...boxes(headBuf)].find((b) => b.type === 'moov');
  if (!moov) return tracks;
  const defaults = new Map<number, number>();
  const mvex = child(headBuf, moov, 'mvex');
  for (const trex of mvex ? children(headBuf, mvex, 'trex') : []) {
    const p = trex.start + trex.header + 4;
    defaults.set(headBuf.readUInt32BE(p), headBuf.readUInt32BE(p + 8));
  }
  for (const trak of children(headBuf, moov, 'trak')) {
    const tkhd = child(headBuf, trak, 'tkhd');
    const mdia = child(headBuf, trak, 'mdia');
    const mdhd = mdia && child(headBuf, mdia, 'mdhd');
    if (!tkhd || !mdhd) continue;
    const tkV = headBuf[tkhd.start + tkhd.header]!;
    const trackId = headBuf.readUInt32BE(tkhd.start + tkhd.header + 4 + (tkV === 1 ? 16 : 8));
    const mdV = headBuf[mdhd.start + mdhd.header]!;
    const timescale = headBuf.readUInt32BE(mdhd.start + mdhd.header + 4 + (mdV === 1 ? 16 : 8));
    // An edit list that starts into the media (audio priming) moves the track's presentation earlier.
    let startOffset = 0;
    const edts = child(headBuf, trak, 'edts');
    const elst = edts && child(headBuf, edts, 'elst');
    if (elst) {
      const v = headBuf[elst.start + elst.header]!;
      const p = elst.start + elst.header + 8;
      const mediaTime = v === 1 ? Number(headBuf.readBigInt64BE(p + 8)) : headBuf.readInt32BE(p + 4);
      if (mediaTime > 0) startOffset = mediaTime;
    }
    tracks.set(trackId, { timescale, defaultDuration: defaults.get(trackId) ?? 0, startOffset });
  }
  return tracks;
}

function lastEntryOffset(buf: Buffer, tfra: Box): number {
  const p = tfra.start + tfra.header;
  const version = buf[p]!;
  const lengths = buf.readUInt32BE(p + 8);
  const count = buf.readUInt32BE(p + 12);
  if (!count) return -1;
  const timeAndOffset = version === 1 ? 16 : 8;
  const numbers = ((lengths >> 4) & 3) + 1 + (((lengths >> 2) & 3) + 1) + ((lengths & 3) + 1);
  const last = p + 16 + (count - 1) * (timeAndOffset + numbers);
  return version === 1 ? Number(buf.readBigUInt64BE(last + 8)) : buf.readUInt32BE(last + 4);
}

/** Where the fragment's run of this track ends, in seconds of presentation. */
function trafEnd(buf: Buffer, traf: Box, tracks: Map<number, Track>): number | null {
  const tfhd = child(buf, traf, 'tfhd');
  const tfdt = child(buf, traf, 'tfdt');
  if (!tfhd || !tfdt) return null;
  let p = tfhd.start + tfhd.header;
  const tfhdFlags = buf.readUInt32BE(p) & 0xffffff;
  const track = tracks.get(buf.readUInt32BE(p + 4));
  if (!track) return null;
  p += 8;
  if (tfhdFlags & 0x1) p += 8; // base data offset
  if (tfhdFlags & 0x2) p += 4; // sample description index
  const defaultDuration = tfhdFlags & 0x8 ? buf.readUInt32BE(p) : track.defaultDuration;

  const q = tfdt.start + tfdt.header;
  let time = buf[q] === 1 ? Number(buf.readBigUInt64BE(q + 4)) : buf.readUInt32BE(q + 4);
  for (const trun of children(buf, traf, 'trun')) {
    let r = trun.start + trun.header;
    const flags = buf.readUInt32BE(r) & 0xffffff;
    const count = buf.readUInt32BE(r + 4);
    r += 8;
    if (flags & 0x1) r += 4; // data offset
    if (flags & 0x4) r += 4; // first sample flags
    const fields = [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
    for (let i = 0; i < count; i++) {
      time += flags & 0x100 ? buf.readUInt32BE(r) : defaultDuration;
      r += fields * 4;
    }
  }
  return (time - track.startOffset) / track.timescale;
}
