// The video span of an MPEG-TS segment, from its PES timestamps, without starting a process: the
// PAT names the PMT, the PMT names the video stream, each video PES header carries a 90 kHz PTS.
// A segment may be cut short or damaged: every field is read only inside its own packet, so damage
// gives a wrong stream or no answer (null), never a read past the packet or a throw.
const PACKET = 188;
const H264 = 0x1b;
const HEVC = 0x24;

type Packet = { pid: number; start: boolean; payload: number; end: number };

/** Seconds from the first video frame to the end of the last one, or null if none is found. */
export function tsVideoSpan(ts: Buffer): number | null {
  let pmtPid = -1;
  let videoPid = -1;
  const pts: number[] = [];
  for (let at = 0; at + PACKET <= ts.length; at += PACKET) {
    if (ts[at] !== 0x47) return null; // not (or no longer) aligned MPEG-TS
    const p = packet(ts, at);
    if (!p || !p.start) continue;
    if (p.pid === 0) pmtPid = patPmtPid(ts, p) ?? pmtPid;
    else if (p.pid === pmtPid) videoPid = pmtVideoPid(ts, p) ?? videoPid;
    else if (p.pid === videoPid) {
      const t = pesPts(ts, p.payload, p.end);
      if (t !== null) pts.push(t);
    }
  }
  return spanOf(pts);
}

/** The packet's header, or null when it carries no payload. */
function packet(ts: Buffer, at: number): Packet | null {
  const pid = ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
  const start = (ts[at + 1]! & 0x40) !== 0;
  const afc = (ts[at + 3]! >> 4) & 3;
  if (!(afc & 1)) return null; // no payload
  const payload = at + 4 + (afc & 2 ? 1 + ts[at + 4]! : 0);
  const end = at + PACKET;
  return payload < end ? { pid, start, payload, end } : null;
}

/** Where a PSI section starts and ends (CRC excluded), within the packet. */
function section(ts: Buffer, p: Packet): { at: number; end: number } | null {
  const at = p.payload + 1 + ts[p.payload]!; // pointer field
  if (at + 3 > p.end) return null;
  const length = ((ts[at + 1]! & 0x0f) << 8) | ts[at + 2]!;
  return { at, end: Math.min(p.end, at + 3 + length - 4) };
}

/** The first program's PMT pid, from the PAT. */
function patPmtPid(ts: Buffer, p: Packet): number | null {
  const s = section(ts, p);
  if (!s || s.at + 12 > s.end) return null;
  return ((ts[s.at + 10]! & 0x1f) << 8) | ts[s.at + 11]!;
}

/** The first H.264 or HEVC stream's pid, from the PMT. */
function pmtVideoPid(ts: Buffer, p: Packet): number | null {
  const s = section(ts, p);
  if (!s || s.at + 12 > s.end) return null;
  const infoLength = ((ts[s.at + 10]! & 0x0f) << 8) | ts[s.at + 11]!;
  for (let e = s.at + 12 + infoLength; e + 5 <= s.end; e += 5 + (((ts[e + 3]! & 0x0f) << 8) | ts[e + 4]!)) {
    if (ts[e] === H264 || ts[e] === HEVC) return ((ts[e + 1]! & 0x1f) << 8) | ts[e + 2]!;
  }
  return null;
}

/** The PTS of a PES packet starting at `p`, or null without one. */
function pesPts(ts: Buffer, p: number, end: number): number | null {
  if (p + 14 > end || ts[p] !== 0 || ts[p + 1] !== 0 || ts[p + 2] !== 1) return null;
  if (!(ts[p + 7]! & 0x80)) return null; // no PTS
  const b = p + 9;
  return ((ts[b]! >> 1) & 0x07) * 2 ** 30 + ((ts[b + 1]! << 7) | (ts[b + 2]! >> 1)) * 2 ** 15 + ((ts[b + 3]! << 7) | (ts[b + 4]! >> 1));
}

/** First frame to the end of the last one: the last frame lasts one (average) frame. */
function spanOf(pts: number[]): number | null {
  if (pts.length < 2) return null;
  pts.sort((a, b) => a - b);
  const span = pts[pts.length - 1]! - pts[0]!;
  if (!(span > 0)) return null;
  return (span + span / (pts.length - 1)) / 90_000;
}
