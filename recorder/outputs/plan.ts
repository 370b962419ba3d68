// Which output a job asks for, and making it from recorded files (when live muxing failed, or to
// finish the task of a recorder that died).
import { randomUUID } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Marker } from '../../lib/child-process.js';
import { open } from '../../lib/key-wrap.js';
import type { StartJob } from '../../protocol/recorder.js';
import { dirs, type RecorderConfig } from '../config.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { runTool } from '../ffmpeg/run.js';
import type { Destinations } from '../storage/destinations.js';
import { HlsOutput } from './hls.js';
import { Mp4Output } from './mp4.js';
import { type Output, outputName } from './output.js';

export async function planOutput(job: StartJob, ctx: { config: RecorderConfig; destinations: Destinations; marker: Marker }): Promise<Output> {
  const { request, TaskID, attempt } = job;
  const video = request.Output.Video;
  const targetName = request.Output.Cos?.TargetName;
  const tmpDir = dirs(ctx.config.dataDir).tmp;
  const mediaType = video.Muxer === 'hls' ? 'm3u8' : 'mp4';
  const destination = await ctx.destinations.open(TaskID, request, mediaType, outputName(targetName, mediaType === 'm3u8' ? 'index' : TaskID, mediaType));
  if (video.Muxer === 'hls') {
    let key: Buffer | undefined;
    try {
      key = video.SealedKey && video.AuthUrl ? open(ctx.config.kek, video.SealedKey) : undefined;
    } catch {
      throw new Error('cannot open the HLS key: every host needs the same KEY_WRAP_SECRET (or the same DATA_DIR)');
    }
    return HlsOutput.create({
      taskId: TaskID,
      attempt,
      targetName,
      segmentSeconds: ctx.config.hlsSegmentSeconds,
      tmpDir,
      destination,
      key: key && video.AuthUrl ? { key, authUrl: video.AuthUrl } : undefined,
    });
  }
  return new Mp4Output({ taskId: TaskID, attempt, targetName, tmpDir, destination, ffprobePath: ctx.config.ffprobePath, marker: ctx.marker });
}

// ffmpeg reports its progress every few seconds; one that reports nothing for two minutes is stuck (a
// hung mount, a stalled read), however long the recording: a time limit would cut a long one short.
const REMAKE_PROGRESS_SECONDS = 5;
const REMAKE_IDLE_MS = 120_000;

/** Writes `output` from intermediate Matroska files (several are joined in order). */
export async function remake(ffmpegPath: string, output: Output, files: string[], marker: Marker, tmpDir: string): Promise<void> {
  if (!files.length) throw new Error('nothing was recorded');
  let input = new FfmpegArgs().progress(REMAKE_PROGRESS_SECONDS);
  let list: string | null = null;
  if (files.length === 1) input = input.input(files[0]!, { format: 'matroska' });
  else {
    list = join(tmpDir, `concat-${randomUUID()}.txt`);
    await writeFile(list, files.map((f) => `file '${f.replace(/'/g, "'\\''")}'`).join('\n') + '\n');
    input = input.input(list, { format: 'concat', unsafePaths: true });
  }
  try {
    const bounds = { stdout: 'progress', idleMs: REMAKE_IDLE_MS } as const;
    await runTool(ffmpegPath, output.addTo(input).toArgs(), marker, output.secret ? { ...bounds, secret: output.secret } : bounds);
  } finally {
    if (list) await unlink(list).catch(() => undefined);
  }
}
