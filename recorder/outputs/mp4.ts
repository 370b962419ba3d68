// MP4 output: fragmented MP4 (empty moov up front, one fragment per keyframe, a fragment index at
// the end). It is written while recording, so Stop only adds the last fragment and the index:
// finishing takes the same time for one minute or ten hours. Chromium's <video> reads its duration
// from the index and seeks in it; a partial file stays playable up to its last whole fragment.
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Marker } from '../../lib/child-process.js';
import type { Video } from '../../protocol/task.js';
import type { FfmpegArgs } from '../ffmpeg/args.js';
import { probe } from '../ffmpeg/probe.js';
import { fragmentedMp4Duration } from './fmp4-duration.js';
import type { StorageTarget } from '../storage/target.js';
import { type Output, outputName, STREAMS } from './output.js';

export class Mp4Output implements Output {
  private readonly path: string;
  readonly where: string;

  constructor(
    private readonly o: {
      taskId: string;
      attempt: number;
      targetName?: string;
      tmpDir: string;
      storage: StorageTarget;
      ffprobePath: string;
      marker: Marker;
    },
  ) {
    this.path = join(o.tmpDir, `${o.taskId}-${o.attempt}.mp4`);
    this.where = this.path;
  }

  addTo(args: FfmpegArgs): FfmpegArgs {
    return args.output(this.path, { format: 'mp4', ...STREAMS, movflags: ['+frag_keyframe', '+empty_moov', '+default_base_moof'] });
  }

  async live(): Promise<Video | null> {
    return null;
  }

  async finalize(stopMs: number): Promise<Video> {
    // From the file's tail in constant time; ffprobe (which reads every fragment) only as a fallback.
    const seconds = (await fragmentedMp4Duration(this.path)) ?? (await probe(this.o.ffprobePath, this.path, this.o.marker)).durationSeconds;
    const name = outputName(this.o.targetName, String(stopMs), 'mp4');
    const stored = await this.o.storage.put(this.o.taskId, name, this.path);
    return {
      Filename: name,
      FileSize: stored.size,
      FileDuration: Math.round((seconds ?? 0) * 1000) / 1000,
      FileURL: stored.url,
      ...(stored.fileId ? { FileId: stored.fileId } : {}),
    };
  }

  async discard(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }
}
