// The video span of an MPEG-TS segment, from its PES timestamps, without starting a process: the
// PAT names the PMT, the PMT names the video stream, each video PES header carries a 90 kHz PTS.
const PACKET = 188;
const H264 = 0x1b;
const HEVC = 0x24;

/** Seconds from the first video frame to the end of the last one, or null if none is found. */
export function tsVideoSpan(ts: Buffer): number | null {
  let pmtPid = -1;
  let videoPid = -1;
  const pts: number[] = [];
  for (let at = 0; at + PACKET <= ts.length; at += PACKET) {
    if (ts[at] !== 0x47) return null; // not (or no longer) aligned MPEG-TS
    const pid = ((ts[at + 1]! & 0x1f) << 8) | ts[at + 2]!;
    const start = (ts[at + 1]! & 0x40) !== 0;
    const afc = (ts[at + 3]! >> 4) & 3;
    if (!(afc & 1)) continue; // no payload
    let p = at + 4 + (afc & 2 ? 1 + ts[at + 4]! : 0);
    if (!start || p >= at + PACKET) continue;
    if (pid === 0 || pid === pmtPid) {
      p += 1 + ts[p]!; // pointer field
      const sectionEnd = Math.min(at + PACKET, p + 3 + (((ts[p + 1]! & 0x0f) << 8) | ts[p + 2]!) - 4);
      if (pid === 0) {
        pmtPid = ((ts[p + 10]! & 0x1f) << 8) | ts[p + 11]!; // first program's PMT
      } else {
        const infoLength = ((ts[p + 10]! & 0x0f) << 8) | ts[p + 11]!;
        for (let e = p + 12 + infoLength; e + 5 <= sectionEnd; e += 5 + (((ts[e + 3]! & 0x0f) << 8) | ts[e + 4]!)) {
          if (ts[e] === H264 || ts[e] === HEVC) {
            videoPid = ((ts[e + 1]! & 0x1f) << 8) | ts[e + 2]!;
            break;
          }
        }
      }
      continue;
    }
    if (pid !== videoPid || ts[p] !== 0 || ts[p + 1] !== 0 || ts[p + 2] !== 1) continue;
    if (!(ts[p + 7]! & 0x80)) continue; // no PTS
    const b = p + 9;
    const value =
      ((ts[b]! >> 1) & 0x07) * 2 ** 30 + ((ts[b + 1]! << 7) | (ts[b + 2]! >> 1)) * 2 ** 15 + ((ts[b + 3]! << 7) | (ts[b + 4]! >> 1));
    pts.push(value);
  }
  if (pts.length < 2) return null;
  pts.sort((a, b) => a - b);
  const span = pts[pts.length - 1]! - pts[0]!;
  const frame = span / (pts.length - 1); // the last frame lasts one frame
  return (span + frame) / 90_000;
}
