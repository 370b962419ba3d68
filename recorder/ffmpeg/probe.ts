// What a media file holds, from ffprobe.
import type { Marker } from '../../lib/child-process.js';
import { runTool } from './run.js';

export type ProbeStream = {
  codec_type: 'video' | 'audio' | string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
};
export type Probe = { durationSeconds: number | null; streams: ProbeStream[] };

export async function probe(ffprobe: string, path: string, marker: Marker): Promise<Probe> {
  const { stdout } = await runTool(
    ffprobe,
    ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,sample_rate,channels', '-of', 'json', path],
    marker,
  );
  const j = JSON.parse(stdout.toString('utf8')) as { format?: { duration?: string }; streams?: ProbeStream[] };
  const d = Number(j.format?.duration);
  return { durationSeconds: Number.isFinite(d) ? d : null, streams: j.streams ?? [] };
}

/** Seconds from the first video frame to the end of the last one, of a file or of bytes given. */
export async function videoSpan(ffprobe: string, input: string | Buffer, marker: Marker): Promise<number> {
  const { stdout } = await runTool(
    ffprobe,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', typeof input === 'string' ? input : 'pipe:0'],
    marker,
    typeof input === 'string' ? {} : { stdin: input },
  );
  const pts = stdout.toString('utf8').split('\n').map((l) => parseFloat(l)).filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  if (pts.length < 2) return 0;
  const frame = (pts[pts.length - 1]! - pts[0]!) / (pts.length - 1); // the last frame lasts one frame
  return pts[pts.length - 1]! - pts[0]! + frame;
}
