// The capture and its sinks (LiveKit Egress's pipeline): the tab's stream, chunk by chunk, into the
// intermediate file and the live muxer that writes the output while recording. Started once the page
// is ready; paused and resumed in place; closed at Stop, after which the output only needs its tail.
import { join } from 'node:path';
import type { Marker } from '../lib/child-process.js';
import { Periodic } from '../lib/periodic.js';
import { diskFault, diskFaultIn } from '../lib/disk-space.js';
import type { Logger } from '../lib/logger.js';
import type { StartJob } from '../protocol/recorder.js';
import type { RecordingProgress, Video } from '../protocol/task.js';
import { collectCaptureGarbage } from './capture/capture-gc.js';
import type { CaptureServer } from './capture/capture-server.js';
import { TabCapture } from './capture/tab-capture.js';
import { dirs, type RecorderConfig } from './config.js';
import { FrameRateWatch } from './frame-rate-watch.js';
import type { Output } from './outputs/output.js';
import { planOutput } from './outputs/plan.js';
import type { PageSource } from './page-source.js';
import { QualityMeter } from './quality/quality-meter.js';
import { FanOut } from './sinks/fan-out.js';
import { IntermediateFile } from './sinks/intermediate-file.js';
import { LiveMuxer } from './sinks/live-muxer.js';
import type { Destinations } from './storage/destinations.js';
import { RawChunkUpload, type RawChunks } from './storage/raw-chunks.js';

const FPS = 30;
/** How often the capture compares the picture with the one before, for the quality report (recorded ms). */
const PICTURE_SAMPLE_MS = 500;
/** The capture has this long to send its first frame. */
const FIRST_FRAME_MS = 10_000;
/** How often what the output holds so far goes up to a remote store. */
const PUBLISH_EVERY_MS = 1000;

export type PipelineFault = { kind: 'disk' | 'capture'; why: string };

export type PipelineDeps = {
  config: RecorderConfig;
  captureServer: CaptureServer;
  destinations: Destinations;
  marker: Marker;
  log: Logger;
  warn: (message: string) => void;
  /** Something failed that ends the recording (a full disk, the capture gone); told once. */
  fault: (f: PipelineFault) => void;
};

export class CapturePipeline {
  private capture: TabCapture | null = null;
  private sink: IntermediateFile | null = null;
  private muxerOf: LiveMuxer | null = null;
  private outputOf: Output | null = null;
  private frameRate: FrameRateWatch | null = null;
  private stopGc: (() => void) | null = null;
  private publisher: Periodic | null = null;
  private rawUpload: RawChunkUpload | null = null;
  private rawChunks: RawChunks | null = null;
  private rawClosed: Promise<void> = Promise.resolve();
  /** The recording's quality report, measured as it records. */
  readonly quality = new QualityMeter();
  private closed = false;
  /** Media seconds the live muxer has written (ffmpeg's own count: a pause adds nothing). */
  private recordedSeconds = 0;

  constructor(
    private readonly job: StartJob,
    private readonly d: PipelineDeps,
  ) {}

  /** The output being written (once started). */
  get output(): Output | null {
    return this.outputOf;
  }

  get muxer(): LiveMuxer | null {
    return this.muxerOf;
  }

  /** Where the intermediate recording also goes up to (StorageType "cos"), and a promise of its last upload. */
  get raw(): { chunks: RawChunks; settled: Promise<void> } | null {
    return this.rawChunks && { chunks: this.rawChunks, settled: this.rawClosed };
  }

  /** The intermediate file (once started). */
  get intermediatePath(): string | null {
    return this.sink?.path ?? null;
  }

  /** Frames per second over the last window, for the log. */
  get fps(): number | null | undefined {
    return this.frameRate?.fps;
  }

  /** The files and folders it writes into (the disk guard watches the space left there). */
  writesTo(): string[] {
    if (this.closed) return [];
    return [this.sink?.path, this.outputOf?.where].filter((p): p is string => !!p);
  }

  /**
   * Opens the sinks and starts the capture of the source's tab; resolves with the first frame (its
   * size and when it was taken). Throws when the capture cannot start.
   */
  async start(source: PageSource): Promise<{ width: number; height: number; at: number }> {
    const { config, destinations, marker, log } = this.d;
    const { request, TaskID, attempt } = this.job;
    this.sink = await IntermediateFile.create(join(dirs(config.dataDir).cfs, TaskID, `${attempt}.mkv`));
    const sinkPath = this.sink.path;
    this.sink.onFailure = (err) => {
      log.error({ err: String(err) }, 'writing the intermediate file failed');
      this.d.fault({ kind: 'disk', why: diskFault(err, sinkPath) ?? `writing ${sinkPath} failed (${(err as NodeJS.ErrnoException).code ?? err.message})` });
    };
    this.rawChunks = destinations.raw(TaskID, request);
    if (this.rawChunks) {
      const sink = this.sink;
      this.rawUpload = new RawChunkUpload(this.rawChunks, attempt, sinkPath, () => sink.bytes, log);
      this.rawUpload.start();
    }
    const output = await planOutput(this.job, { config, destinations, marker });
    this.outputOf = output;
    const muxer = LiveMuxer.start(config.ffmpegPath, output, marker);
    this.muxerOf = muxer;
    // A full disk under the output ends the recording (with what it holds); any other failure of
    // the live ffmpeg only means the output is made again from the intermediate file at Stop.
    muxer.onFailure = (why, stderr) => {
      const disk = diskFaultIn(stderr, output.where);
      log[disk ? 'error' : 'warn']({ why }, 'the live ffmpeg failed');
      if (disk) this.d.fault({ kind: 'disk', why: disk });
    };
    const watch = new FrameRateWatch(config.fpsWarningBelow, (fps, seconds) => {
      log.warn({ fps: +fps.toFixed(2) }, 'low frame rate');
      this.d.warn(
        `the recording captured ${fps.toFixed(1)} frames per second over its last ${Math.round(seconds)} s (under ${config.fpsWarningBelow}, FPS_WARNING_BELOW): the recorder may be overloaded`,
      );
    });
    muxer.onSilenceLine = (line) => this.quality.silenceLine(line);
    muxer.onProgress = (p) => {
      watch.add(p.frames, p.seconds);
      this.recordedSeconds = Math.max(this.recordedSeconds, p.seconds);
    };
    this.frameRate = watch;
    // A failed upload is tried again at the next run (and at Stop): the local file holds it all.
    let uploadFailing = false;
    this.publisher = new Periodic(
      PUBLISH_EVERY_MS,
      async () => {
        await output.publishSoFar();
        if (uploadFailing) log.info('uploading while recording works again');
        uploadFailing = false;
      },
      (err) => {
        if (!uploadFailing) log.warn({ err: String(err) }, 'uploading while recording failed; trying again');
        uploadFailing = true;
      },
    );
    this.publisher.start();
    const { rb } = source;
    const capture = await TabCapture.start(rb.sw, this.d.captureServer, new FanOut(this.sink, [muxer, this.quality]), {
      tabId: rb.tabId,
      width: request.Width,
      height: request.Height,
      fps: FPS,
      pictureSampleMs: PICTURE_SAMPLE_MS,
    });
    this.capture = capture;
    capture.onPictures = (samples) => this.quality.picturesSampled(samples);
    this.stopGc = await collectCaptureGarbage(rb.browser, (err) => log.debug({ err: String(err) }, 'capture document GC failed')).catch((err) => {
      log.warn({ err: String(err) }, 'cannot reach the capture document to collect its garbage');
      return null;
    });
    capture.onMessage = (m) => log[m.type === 'error' ? 'warn' : 'debug']({ capture: m.message }, 'capture says');
    // The socket closes as the browser dies, sometimes before the disconnect is seen: give that a
    // moment, so the failure is named for its cause (the first fault told wins).
    void capture.ended.then(() =>
      setTimeout(() => {
        if (!this.closed) this.d.fault({ kind: 'capture', why: 'the capture ended by itself' });
      }, 500),
    );
    return Promise.race([
      capture.firstFrame,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no frame within ${FIRST_FRAME_MS / 1000} s of starting the capture`)), FIRST_FRAME_MS)),
    ]);
  }

  pause(): Promise<void> {
    return this.capture!.pause();
  }

  resume(): Promise<void> {
    return this.capture!.resume();
  }

  /** Whether the capture runs (pause and resume apply to it). */
  get started(): boolean {
    return this.capture !== null;
  }

  /** How far the recording has got: seconds, bytes of the intermediate file (as its sink counts them), frame rate. */
  progress(): RecordingProgress | null {
    if (!this.sink || !this.capture) return null;
    const fps = this.frameRate?.fps;
    return { RecordedSeconds: Math.round(this.recordedSeconds * 10) / 10, FileSize: this.sink.bytes, Fps: fps == null ? null : Math.round(fps * 10) / 10 };
  }

  /** What can be watched already (a live HLS playlist), or null. */
  live(): Promise<Video | null> {
    return this.outputOf?.live().catch(() => null) ?? Promise.resolve(null);
  }

  /** Stops the capture and closes the intermediate file; tells whether anything was recorded. */
  async close(): Promise<boolean> {
    this.closed = true;
    this.publisher?.stop();
    this.stopGc?.();
    this.stopGc = null;
    if (this.capture) await this.capture.stop();
    if (this.sink) await this.sink.close();
    // The last second goes up beside the finishing; the raw chunks are removed only after it.
    if (this.rawUpload) this.rawClosed = this.rawUpload.close();
    return (this.sink?.bytes ?? 0) > 0;
  }

  /** Ends whatever still runs (the live ffmpeg), at once. */
  abort(): void {
    this.closed = true;
    this.publisher?.stop();
    this.stopGc?.();
    this.muxerOf?.abort();
    if (this.rawUpload) this.rawClosed = this.rawUpload.close();
  }
}
