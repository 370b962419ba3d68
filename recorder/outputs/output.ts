// An output format (MP4 or HLS) as a plan: how ffmpeg writes it from the recording (live while
// recording, or from the intermediate file), and how the finished result is published.
import type { Video } from '../../protocol/task.js';
import type { FfmpegArgs } from '../ffmpeg/args.js';

export interface Output {
  /** Adds this output to an ffmpeg command whose input 0 is the recording (H.264 + Opus). */
  addTo(args: FfmpegArgs): FfmpegArgs;
  /** Where ffmpeg writes it (the file, or the folder of an HLS set): named when that disk fails. */
  readonly where: string;
  /** Bytes ffmpeg reads on fd 3 (the HLS encryption key), if any. */
  readonly secret?: Buffer;
  /** What can be watched already while recording (a live playlist), or null. */
  live(): Promise<Video | null>;
  /** While recording: sends what is complete so far to a remote store (nothing for local disk). */
  publishSoFar(): Promise<void>;
  /** After ffmpeg has finished cleanly: publish the result and describe it. */
  finalize(stopMs: number): Promise<Video>;
  /** Drops whatever was written, before the output is made again from the intermediate file. */
  discard(): Promise<void>;
  /**
   * Once the result is reported: removes the local copy of an output that went up to a remote store
   * (nothing for local disk, whose copy is the result). After the report, not before: deleting a
   * long recording's file or segments is no part of Stop → finished.
   */
  dropLocalCopy(): Promise<void>;
}

/** The file name: TargetName if given (with the right extension), else the given default. */
export function outputName(targetName: string | undefined, fallback: string, ext: 'mp4' | 'm3u8'): string {
  if (!targetName) return `${fallback}.${ext}`;
  return targetName.toLowerCase().endsWith(`.${ext}`) ? targetName : `${targetName.replace(/\.(mp4|m3u8)$/i, '')}.${ext}`;
}

/** Audio is Opus from the browser; both formats carry AAC. Video is copied, never re-encoded. */
export const STREAMS = { maps: ['0:v:0', '0:a:0?'], videoCodec: 'copy', audioCodec: 'aac', audioBitrate: '128k' } as const;

/** The store would not take the output (after its retries): the local copy at `localPath` is whole. */
export class UploadFailed extends Error {
  constructor(
    store: string,
    override readonly cause: unknown,
    /** The finished file, or the folder of an HLS set. */
    readonly localPath: string,
  ) {
    super(`uploading to ${store} failed: ${(cause as Error)?.message ?? String(cause)}`);
  }
}
