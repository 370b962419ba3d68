// The one way a recording becomes a result, for a session that just stopped and for the recovery of
// a lost recorder's task alike: the output is completed (the live muxer's tail, or made again from
// the intermediate files), published to its storage target, and reported; the intermediate
// recording is removed only once the task has heard of its file.
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Marker } from '../lib/child-process.js';
import { diskFault, diskFaultIn } from '../lib/disk-space.js';
import type { Logger } from '../lib/logger.js';
import { TaskErrorCode } from '../protocol/errors.js';
import type { Video } from '../protocol/task.js';
import type { TaskEvents } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import type { FfmpegError } from './ffmpeg/run.js';
import { type Output, UploadFailed } from './outputs/output.js';
import { remake } from './outputs/plan.js';
import type { LiveMuxer } from './sinks/live-muxer.js';
import { removeRaw, type RawChunks } from './storage/raw-chunks.js';

export type FinishDeps = {
  config: RecorderConfig;
  events: TaskEvents;
  marker: Marker;
  log: Logger;
  /** The kind of store the output goes to, for the metrics. */
  storeKind?: string;
  /** The intermediate recording in COS (StorageType "cos"), removed with the local one once settled. */
  raw?: { chunks: RawChunks; settled: Promise<void> } | null;
};

/** Why a recording ended early: the task ends with this code even though it has a video. */
export type Failure = { code: string; why: string };

/**
 * Completes `output` and publishes it. `muxer`: the live ffmpeg that wrote it while recording (only
 * its tail is left); without one, or when it failed, the output is made from `files`. Null when no
 * video could be made (that failure is reported). `timings` gets where the time went (ms).
 */
export async function completeOutput(d: FinishDeps, taskId: string, output: Output, muxer: LiveMuxer | null, files: string[], timings: Record<string, number> = {}): Promise<Video[] | null> {
  const { config, events, marker, log } = d;
  const t0 = performance.now();
  let live = !!muxer;
  if (muxer) {
    try {
      await muxer.close();
    } catch (err) {
      log.warn({ err: String(err) }, 'live muxing failed; making the output from the intermediate file');
      live = false;
    }
  }
  if (!live) {
    try {
      await output.discard();
      await remake(config.ffmpegPath, output, files, marker, dirs(config.dataDir).tmp);
    } catch (err) {
      const disk = diskFaultIn(`${(err as FfmpegError).stderr ?? ''} ${(err as Error).message}`, output.where);
      // The intermediate recording stays (it is removed only after a result): a remake can follow once there is room.
      if (disk) await failed(events, TaskErrorCode.RecordFailed, `${disk}; no video could be made from what was recorded`);
      else await failed(events, TaskErrorCode.TranscodeFailed, `making the output failed: ${(err as Error).message}`);
      return null;
    }
  }
  timings.tail = Math.round(performance.now() - t0);
  await events.emit({ type: 'uploading' });
  const t1 = performance.now();
  try {
    const video = await output.finalize(Date.now());
    timings.publish = Math.round(performance.now() - t1);
    config.metrics?.upload(d.storeKind ?? 'local', 'stored');
    return [video];
  } catch (err) {
    const disk = diskFault(err, output.where);
    if (disk) await failed(events, TaskErrorCode.RecordFailed, `${disk}; no video could be made from what was recorded`);
    else if (err instanceof UploadFailed) {
      config.metrics?.upload(d.storeKind ?? 'local', 'failed');
      const kept = await keepLocalCopy(config, taskId, err.localPath).catch(() => err.localPath);
      log.error({ err: err.message, kept }, 'the output could not be uploaded; the local copy is kept');
      await failed(events, TaskErrorCode.UploadFailed, `${err.message}; the recording is kept at ${kept} on ${config.recorderId}`);
    } else await failed(events, TaskErrorCode.UploadFailed, `storing the output failed: ${(err as Error).message}`);
    return null;
  }
}

/** Where a recording that could not be uploaded stays: DATA_DIR/kept/<TaskID>/ (the scratch folder is emptied). */
async function keepLocalCopy(config: RecorderConfig, taskId: string, path: string): Promise<string> {
  const dir = join(config.dataDir, 'kept', taskId);
  await mkdir(dir, { recursive: true });
  const dest = join(dir, basename(path));
  await rename(path, dest);
  return dest;
}

/**
 * Tells the task its videos (as finished, or failed with `failure` but keeping them), then drops the
 * output's local copy (it is in its store) and, once the task has heard, the intermediate recording.
 * Deleting gigabytes takes a while, so it comes after.
 */
export async function reportResult(d: FinishDeps, taskId: string, output: Output, videos: Video[], failure: Failure | null): Promise<boolean> {
  const reported = failure
    ? await d.events.emit({ type: 'failed', code: failure.code, message: `${failure.why}; the video holds what was recorded until then`, videos })
    : await d.events.emit({ type: 'finished', videos });
  await output.dropLocalCopy();
  if (!reported) {
    // The task never heard of its file: whoever finishes the task next remakes it from these.
    d.log.warn('the result was not reported; the intermediate recording is kept for recovery');
    return false;
  }
  await rm(intermediateDir(d.config, taskId), { recursive: true, force: true });
  if (d.raw) {
    const { chunks, settled } = d.raw;
    await settled;
    // What stays behind is only clutter, in the user's bucket: said, not failed on.
    await removeRaw(chunks).catch((err) => d.log.warn({ err: String(err), store: chunks.store.name, prefix: chunks.prefix }, 'the raw chunks could not be removed'));
  }
  return true;
}

/** Where every attempt of a task writes its intermediate recording (`<attempt>.mkv`). */
export function intermediateDir(config: RecorderConfig, taskId: string): string {
  return join(dirs(config.dataDir).cfs, taskId);
}

export function failed(events: TaskEvents, code: string, message: string, videos: Video[] = []): Promise<boolean> {
  return events.emit({ type: 'failed', code, message, videos });
}
