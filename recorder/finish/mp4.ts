// Intermediate Matroska (H.264 + Opus, as MediaRecorder wrote it) → MP4: video copied, audio to AAC.
import type { Marker } from '../../lib/child-process.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { runTool } from '../ffmpeg/run.js';

export async function remuxToMp4(ffmpeg: string, input: string, output: string, marker: Marker, signal?: AbortSignal): Promise<void> {
  const args = new FfmpegArgs()
    .input(input, { format: 'matroska' })
    .output(output, {
      format: 'mp4',
      maps: ['0:v:0', '0:a:0?'],
      videoCodec: 'copy',
      audioCodec: 'aac',
      audioBitrate: '128k',
      // The index up front: players start at once and can seek before the whole file arrives.
      movflags: ['+faststart'],
    })
    .toArgs();
  await runTool(ffmpeg, args, marker, { signal });
}
