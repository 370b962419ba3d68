// MP4 output: fragmented MP4 (empty moov up front, one fragment per keyframe, a fragment index at
// the end). It is written while recording, so Stop only adds the last fragment and the index:
// finishing takes the same time for one minute or ten hours. Chromium's <video> reads its duration
// from the index and seeks in it; a partial file stays playable up to its last whole fragment. To a
// remote store the file goes up in parts as it grows, so at Stop only the tail is sent.
import { stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Marker } from '../../lib/child-process.js';
import type { Video } from '../../protocol/task.js';
import type { FfmpegArgs } from '../ffmpeg/args.js';
import { probe } from '../ffmpeg/probe.js';
import { GrowingFileUpload } from '../storage/growing-file-upload.js';
import { CONTENT_TYPES, type Destination } from '../storage/target.js';
import { fragmentedMp4Duration } from './fmp4-duration.js';
import { type Output, outputName, STREAMS, UploadFailed } from './output.js';

export class Mp4Output implements Output {
  private readonly path: string;
  readonly where: string;
  /** Fixed before Stop when the file goes up while recording: the key must be known at its first part. */
  private readonly name: string | null;
  private readonly upload: GrowingFileUpload | null;

  constructor(
    private readonly o: {
      taskId: string;
      attempt: number;
      targetName?: string;
      tmpDir: string;
      destination: Destination;
      ffprobePath: string;
      marker: Marker;
    },
  ) {
    this.path = join(o.tmpDir, `${o.taskId}-${o.attempt}.mp4`);
    this.where = this.path;
    const remote = !o.destination.localDir;
    this.name = o.targetName || remote ? outputName(o.targetName, String(Date.now()), 'mp4') : null;
    this.upload = remote ? new GrowingFileUpload(o.destination, this.name!, this.path, CONTENT_TYPES.mp4) : null;
  }

  addTo(args: FfmpegArgs): FfmpegArgs {
    return args.output(this.path, { format: 'mp4', ...STREAMS, movflags: ['+frag_keyframe', '+empty_moov', '+default_base_moof'] });
  }

  async live(): Promise<Video | null> {
    return null;
  }

  async publishSoFar(): Promise<void> {
    await this.upload?.step();
  }

  get partsSent(): number {
    return this.upload?.parts ?? 0;
  }

  async finalize(stopMs: number): Promise<Video> {
    // From the file's tail in constant time; ffprobe (which reads every fragment) only as a fallback.
    const seconds = (await fragmentedMp4Duration(this.path)) ?? (await probe(this.o.ffprobePath, this.path, this.o.marker)).durationSeconds;
    const name = this.name ?? outputName(undefined, String(stopMs), 'mp4');
    const { destination } = this.o;
    let size: number;
    try {
      size = (await stat(this.path)).size;
      if (this.upload) await this.upload.finish();
      else await destination.store.put(destination.keyFor(name), { path: this.path }, CONTENT_TYPES.mp4);
    } catch (err) {
      throw new UploadFailed(destination.store.name, err, this.path);
    }
    // Asked after the upload: a destination opened anew while it went up has another key.
    const key = destination.keyFor(name);
    const published = await destination.complete(key).catch((err) => {
      throw new UploadFailed(destination.store.name, err, this.path);
    });
    return {
      Filename: name,
      FileSize: size,
      FileDuration: Math.round((seconds ?? 0) * 1000) / 1000,
      FileURL: published.url,
      ...(published.fileId ? { FileId: published.fileId } : {}),
    };
  }

  async dropLocalCopy(): Promise<void> {
    if (this.upload) await unlink(this.path).catch(() => undefined);
  }

  async discard(): Promise<void> {
    await this.upload?.abort().catch(() => undefined);
    await unlink(this.path).catch(() => undefined);
  }
}
