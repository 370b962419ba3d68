// What a media file holds, from ffprobe. ffprobe is a fallback read of a file that may be damaged:
// it is bounded in time and output, and any failure is a typed answer (nothing known), not a throw.
import type { Marker } from '../../lib/child-process.js';
import { FfmpegError, type RunOptions, runTool } from './run.js';

export type ProbeStream = {
  codec_type: 'video' | 'audio' | string;
  codec_name: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
};
export type Probe = { ok: true; durationSeconds: number | null; streams: ProbeStream[] } | { ok: false; reason: string; durationSeconds: null; streams: [] };

// ffprobe walks every fragment of a fragmented MP4: about 0.6 s for ten minutes, so under a minute
// for ten hours. Its answer is a few hundred bytes of JSON.
export const PROBE_BOUNDS = { timeoutMs: 90_000, maxStdout: 1 << 20 } satisfies RunOptions;

export async function probe(ffprobe: string, path: string, marker: Marker, bounds: RunOptions = {}): Promise<Probe> {
  let stdout: Buffer;
  try {
    ({ stdout } = await runTool(ffprobe, ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height,sample_rate,channels', '-of', 'json', path], marker, {
      ...PROBE_BOUNDS,
      ...bounds,
      stdout: 'collect',
    }));
  } catch (err) {
    if (err instanceof FfmpegError) return failed(err.message);
    throw err;
  }
  return parseProbe(stdout.toString('utf8'));
}

function parseProbe(json: string): Probe {
  let j: { format?: { duration?: unknown }; streams?: unknown };
  try {
    j = JSON.parse(json) as typeof j;
  } catch {
    return failed('ffprobe wrote no JSON');
  }
  if (!j || typeof j !== 'object') return failed('ffprobe wrote no object');
  const d = Number(j.format?.duration);
  const streams = Array.isArray(j.streams) ? (j.streams as ProbeStream[]) : [];
  return { ok: true, durationSeconds: Number.isFinite(d) && d >= 0 ? d : null, streams };
}

function failed(reason: string): Probe {
  return { ok: false, reason, durationSeconds: null, streams: [] };
}
