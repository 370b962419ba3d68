// Checks on a recorded file itself: streams, duration, decoded frame counter, frame gaps, audio level.
// Methods as in ../shared/reference/capture-spike (counter strip decode, volumedetect).
import { spawn, spawnSync } from 'node:child_process';

function run(cmd: string, args: string[]): { stdout: Buffer; stderr: string } {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString().slice(-500)}`);
  return { stdout: r.stdout, stderr: r.stderr.toString() };
}

export type MediaInfo = {
  duration: number;
  video?: { codec: string; width: number; height: number; profile?: string };
  audio?: { codec: string; sampleRate: number; channels: number };
};

export function mediaInfo(file: string): MediaInfo {
  const j = JSON.parse(
    run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,profile,sample_rate,channels', '-of', 'json', file]).stdout.toString(),
  );
  const v = j.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
  const a = j.streams.find((s: { codec_type: string }) => s.codec_type === 'audio');
  return {
    duration: Number(j.format.duration),
    video: v && { codec: v.codec_name, width: v.width, height: v.height, profile: v.profile },
    audio: a && { codec: a.codec_name, sampleRate: Number(a.sample_rate), channels: a.channels },
  };
}

/** Presentation times (s) of every video frame, in order. */
export function videoFrameTimes(file: string): number[] {
  return run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', file])
    .stdout.toString()
    .trim()
    .split('\n')
    .map((l) => parseFloat(l))
    .filter((x) => Number.isFinite(x))
    .sort((a, b) => a - b);
}

/** The 16-bit counter the test page paints, decoded from every frame (decode order = display order here). */
export function counterValues(file: string): number[] {
  const raw = run('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', 'crop=640:40:0:0,scale=16:1:flags=area', '-pix_fmt', 'gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-']).stdout;
  const out: number[] = [];
  for (let i = 0; i + 16 <= raw.length; i += 16) {
    let v = 0;
    for (let j = 0; j < 16; j++) v = (v << 1) | (raw[i + j]! > 128 ? 1 : 0);
    out.push(v);
  }
  return out;
}

export function maxGap(times: number[]): number {
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

export function meanVolumeDb(file: string): number {
  const err = run('ffmpeg', ['-v', 'info', '-i', file, '-vn', '-af', 'volumedetect', '-f', 'null', '-']).stderr;
  const m = /mean_volume: (-?[\d.]+|-inf) dB/.exec(err);
  return m && m[1] !== '-inf' ? Number(m[1]) : -Infinity;
}

/** Stretches (s) of the decoded file where `filter` (freezedetect or silencedetect) saw a hold of `minSeconds` or more. */
function detected(file: string, filter: 'freezedetect' | 'silencedetect', minSeconds: number): { start: number; duration: number }[] {
  const args =
    filter === 'freezedetect'
      ? // -50 dB: the encoder refines a still picture over its first second (about -55 dB of change), which is not the page changing.
        ['-v', 'info', '-i', file, '-an', '-vf', `freezedetect=n=0.003:d=${minSeconds}`, '-f', 'null', '-']
      : ['-v', 'info', '-i', file, '-vn', '-af', `silencedetect=n=-60dB:d=${minSeconds}`, '-f', 'null', '-'];
  const err = run('ffmpeg', args).stderr;
  const kind = filter === 'freezedetect' ? 'freeze' : 'silence';
  const out: { start: number; duration: number }[] = [];
  let start: number | null = null;
  for (const m of err.matchAll(new RegExp(`${kind}_(start|end): (-?[\\d.]+)`, 'g'))) {
    if (m[1] === 'start') start = Number(m[2]);
    else if (start !== null) {
      out.push({ start, duration: Number(m[2]) - start });
      start = null;
    }
  }
  if (start !== null) out.push({ start, duration: mediaInfo(file).duration - start });
  return out;
}

/** Where the decoded picture held still (freezedetect), for checking the service's own report against. */
export const frozenStretches = (file: string, minSeconds = 5) => detected(file, 'freezedetect', minSeconds);
/** Where the decoded sound was silent (silencedetect). */
export const silentStretches = (file: string, minSeconds = 5) => detected(file, 'silencedetect', minSeconds);

/** Everything a recording test asserts, computed once. */
export function analyse(file: string) {
  const info = mediaInfo(file);
  const times = videoFrameTimes(file);
  const counters = counterValues(file);
  const span = times.length > 1 ? times[times.length - 1]! - times[0]! : 0;
  const distinct = new Set(counters).size;
  return {
    info,
    frames: times.length,
    maxGap: maxGap(times),
    counters,
    distinctPerSecond: info.duration > 0 ? distinct / info.duration : 0,
    span,
    meanVolumeDb: info.audio ? meanVolumeDb(file) : -Infinity,
  };
}

/** When each beep starts (s): the first loud sample after at least 0.3 s of quiet, to the sample. */
export function beepOnsets(file: string): number[] {
  const RATE = 48_000;
  // Resampled onto the file's timeline from 0 (silence before a late first sample, a trim before an
  // early one), so sample i is at i / RATE whatever the codec's start time or priming.
  const pcm = run('ffmpeg', ['-v', 'error', '-i', file, '-vn', '-ac', '1', '-af', `aresample=${RATE}:async=1:first_pts=0`, '-f', 's16le', '-']).stdout;
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1);
  const LOUD = 0.05 * 32768; // -26 dBFS: far above any codec noise, far below the beep
  const onsets: number[] = [];
  let lastLoud = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]!) < LOUD) continue;
    if (i - lastLoud > 0.3 * RATE) onsets.push(i / RATE);
    lastLoud = i;
  }
  return onsets;
}

/**
 * Audio/video offset in ms (positive: audio late). The test page flashes a block at x=1200 while its
 * beep sounds (both driven by the audio clock); compare flash onsets (the first frame showing it)
 * with beep onsets (the first loud sample, exact to the sample, where silencedetect's are not).
 */
export function avOffsetMs(file: string): { median: number; matched: number } | null {
  const flashes = run('ffmpeg', ['-v', 'error', '-i', file, '-an', '-vf', 'crop=80:40:1200:0,scale=1:1:flags=area', '-pix_fmt', 'gray', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-']).stdout;
  // JSON, not CSV: a frame carrying side data prints an extra CSV line, which shifted every later
  // frame's time by one frame (33 ms) in an earlier version of this check.
  const frames = JSON.parse(run('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'json', file]).stdout.toString()).frames as { pts_time?: string }[];
  const pts = frames.map((f) => Number(f.pts_time));
  if (Math.abs(pts.length - flashes.length) > 1) throw new Error(`${file}: ${pts.length} frame times for ${flashes.length} decoded frames`);
  const video: number[] = [];
  for (let i = 1; i < flashes.length && i < pts.length; i++) if (flashes[i]! > 128 && flashes[i - 1]! <= 128) video.push(pts[i]!);
  const audio = beepOnsets(file);
  const offsets: number[] = [];
  for (const v of video) {
    const nearest = audio.reduce((best, a) => (Math.abs(a - v) < Math.abs(best - v) ? a : best), Infinity);
    if (Math.abs(nearest - v) < 0.5) offsets.push(nearest - v);
  }
  if (!offsets.length) return null;
  offsets.sort((a, b) => a - b);
  return { median: Math.round(offsets[offsets.length >> 1]! * 1000), matched: offsets.length };
}

/** Options that let ffmpeg read a local HLS playlist whose key is fetched over HTTP. */
export const HLS_INPUT = ['-allowed_extensions', 'ALL', '-protocol_whitelist', 'file,http,tcp,crypto,data'];

/**
 * Decodes every frame and sample; returns ffmpeg's complaints (empty when it decoded cleanly).
 * Asynchronous: ffmpeg may fetch a key from a server living in this very process.
 */
export async function decodeErrors(input: string, inputArgs: string[] = []): Promise<string> {
  // passthrough: variable frame rate is normal here; only real decoding problems count.
  const r = await runAsync('ffmpeg', ['-v', 'error', ...inputArgs, '-i', input, '-fps_mode', 'passthrough', '-f', 'null', '-']);
  // The null muxer re-times variable-rate frames into its own time base and may then complain of
  // equal timestamps; that is about its rounding, not the file (nor is ffmpeg's "Last message
  // repeated" after it: a repeated real message is still there once). Every decoder message counts.
  const complaints = r.stderr.split('\n').filter((l) => l && !/non monotonically increasing dts to muxer|^\s*Last message repeated \d+ times$/.test(l));
  return complaints.join('\n') + (r.code === 0 ? '' : `exit ${r.code}`);
}

/** Copies a (possibly encrypted) HLS playlist into one MP4 for the usual checks. */
export async function hlsToMp4(playlist: string, out: string): Promise<void> {
  const r = await runAsync('ffmpeg', ['-v', 'error', '-y', ...HLS_INPUT, '-i', playlist, '-c', 'copy', out]);
  if (r.code !== 0) throw new Error(`ffmpeg could not read ${playlist}: ${r.stderr.slice(-500)}`);
}

function runAsync(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
