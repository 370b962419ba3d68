// Reads the frames' timing out of the Matroska stream as it arrives, chunk by chunk: each block's
// track, time, keyframe flag and size, without keeping or decoding its payload. Element headers are
// walked and payloads skipped, so it costs next to nothing per chunk (libraries such as `ebml` decode
// and copy every element, payloads included). The segment, clusters, tracks and block groups are
// entered whatever their size (MediaRecorder writes them with "unknown" sizes); anything else it
// does not need is skipped by its size.

export type TrackKind = 'video' | 'audio' | 'other';
export type Block = { kind: TrackKind; track: number; /** ms */ time: number; key: boolean; bytes: number };

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const INFO = 0x1549a966;
const TRACKS = 0x1654ae6b;
const TRACK_ENTRY = 0xae;
const BLOCK_GROUP = 0xa0;
const TIMESTAMP_SCALE = 0x2ad7b1;
const CLUSTER_TIMESTAMP = 0xe7;
const TRACK_NUMBER = 0xd7;
const TRACK_TYPE = 0x83;
const SIMPLE_BLOCK = 0xa3;
const BLOCK = 0xa1;
const ENTERED = new Set([SEGMENT, CLUSTER, INFO, TRACKS, TRACK_ENTRY, BLOCK_GROUP]);
const VALUES = new Set([TIMESTAMP_SCALE, CLUSTER_TIMESTAMP, TRACK_NUMBER, TRACK_TYPE]);

/** A variable-length integer at `at`: its value (marker bit removed unless `keepMarker`) and length; null if incomplete. */
function vint(b: Buffer, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  if (at >= b.length) return null;
  const first = b[at]!;
  if (first === 0) return { value: -1, length: 9, unknown: false }; // longer than 8 bytes: not Matroska
  const length = Math.clz32(first) - 23;
  if (at + length > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = b[at + i]!;
    value = value * 256 + byte;
    allOnes &&= byte === 0xff;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

export class MatroskaBlocks {
  /** Why the stream could not be read on (nothing more is read), or null. */
  failed: string | null = null;
  private pending: Buffer | null = null;
  private skip = 0;
  private scaleNs = 1_000_000;
  private clusterTime = 0;
  private readonly kinds = new Map<number, TrackKind>();
  private entry: { number?: number; type?: number } = {};

  constructor(private readonly onBlock: (b: Block) => void) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    if (this.skip >= chunk.length) {
      this.skip -= chunk.length;
      return;
    }
    let b = chunk;
    let at = this.skip;
    this.skip = 0;
    if (this.pending) {
      b = Buffer.concat([this.pending, chunk.subarray(at)]);
      at = 0;
      this.pending = null;
    }
    while (at < b.length) {
      const used = this.element(b, at);
      if (used === null) {
        this.pending = Buffer.from(b.subarray(at)); // an element header split between chunks
        return;
      }
      if (this.failed) return;
      at += used;
      if (at > b.length) {
        this.skip = at - b.length;
        return;
      }
    }
  }

  /** Reads the element at `at`: how many bytes it takes (header, plus the payload unless entered); null if incomplete. */
  private element(b: Buffer, at: number): number | null {
    const id = vint(b, at, true);
    if (!id) return null;
    if (id.length > 4) return this.fail(`an element id at byte ${at} of a chunk is not Matroska`);
    const size = vint(b, at + id.length, false);
    if (!size) return null;
    if (size.length > 8) return this.fail(`an element size at byte ${at} of a chunk is not Matroska`);
    const head = id.length + size.length;
    if (ENTERED.has(id.value)) {
      if (id.value === TRACK_ENTRY) this.entry = {};
      return head;
    }
    if (size.unknown) return this.fail(`element 0x${id.value.toString(16)} has an unknown size`);
    const body = at + head;
    if (VALUES.has(id.value)) {
      if (size.value > 8) return this.fail(`element 0x${id.value.toString(16)} is ${size.value} bytes, not a number`);
      if (body + size.value > b.length) return null;
      let v = 0;
      for (let i = 0; i < size.value; i++) v = v * 256 + b[body + i]!;
      this.value(id.value, v);
      return head + size.value;
    }
    if (id.value === SIMPLE_BLOCK || id.value === BLOCK) {
      const track = vint(b, body, false);
      if (!track) return null;
      if (track.length > 8) return this.fail('a block header is not Matroska');
      if (body + track.length + 3 > b.length) return null;
      if (track.length + 3 > size.value) return this.fail('a block is shorter than its header');
      const relative = b.readInt16BE(body + track.length);
      const flags = b[body + track.length + 2]!;
      const time = ((this.clusterTime + relative) * this.scaleNs) / 1e6;
      const bytes = size.value - track.length - 3;
      // A Block (in a BlockGroup) carries no keyframe flag: it counts as a keyframe only in a SimpleBlock.
      this.onBlock({ kind: this.kinds.get(track.value) ?? 'other', track: track.value, time, key: id.value === SIMPLE_BLOCK && (flags & 0x80) !== 0, bytes });
    }
    return head + size.value;
  }

  private value(id: number, v: number): void {
    if (id === TIMESTAMP_SCALE) this.scaleNs = v || 1_000_000;
    else if (id === CLUSTER_TIMESTAMP) this.clusterTime = v;
    else {
      if (id === TRACK_NUMBER) this.entry.number = v;
      else this.entry.type = v;
      if (this.entry.number !== undefined && this.entry.type !== undefined) {
        this.kinds.set(this.entry.number, this.entry.type === 1 ? 'video' : this.entry.type === 2 ? 'audio' : 'other');
      }
    }
  }

  private fail(why: string): number {
    this.failed = why;
    this.pending = null;
    return 0;
  }
}
