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

