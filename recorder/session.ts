// One recording, as its phases: the source (a browser with the task's page) is opened and loaded,
// the capture pipeline runs until Stop, then the shared finishing path makes and publishes the
// result. Obeys the task's commands and the page's own controls; reports every step as an event;
// knows nothing of the task's state machine beyond that.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskErrorCode } from '../protocol/errors.js';
import type { RecorderCommand, StartJob } from '../protocol/recorder.js';
import type { Cgroups } from '../lib/cgroups.js';
import { type Marker, sweepMarked } from '../lib/child-process.js';
import type { Logger } from '../lib/logger.js';
import type { BrowserSource } from './capture/browser-pool.js';
import type { CaptureServer } from './capture/capture-server.js';
import { CapturePipeline, type PipelineFault } from './capture-pipeline.js';
import type { TaskEvents } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import { completeOutput, type Failure, failed, type FinishDeps, reportResult } from './finishing.js';
import { ControlRefused, type PageControl } from './page-controls.js';
import { PageSource } from './page-source.js';
import type { Destinations } from './storage/destinations.js';

type StopReason = 'command' | 'crash' | 'memory' | 'shutdown' | 'capture-failed' | 'disk';

export class Session {
  private source: PageSource | null = null;
  private readonly pipeline: CapturePipeline;
  private progressTimer: NodeJS.Timeout | null = null;
  private captureStart: Promise<void> | null = null;
  private stopReason: StopReason | null = null;
  private wakeStop!: () => void;
  private readonly stopAsked = new Promise<void>((r) => (this.wakeStop = r));
  private commands: Promise<void> = Promise.resolve();
  /** The capture is paused (applied). */
  private pauseWanted = false;
  /** The last pause or resume asked, by a command or by the page (applied or still queued). */
  private pauseAsked = false;
  /** The page called window.stopRecord(). */
  private stopAskedByPage = false;
  /** Frames are flowing (after the first frame, until Stop). */
  private capturing = false;
  private captureError = '';
  /** Where the time between Stop and the result went (ms), for the log. */
  private readonly timings: Record<string, number> = {};
  private readonly marker: Marker;
  private readonly log: Logger;
  private readonly finishing: FinishDeps;

  constructor(
    private readonly job: StartJob,
    private readonly d: {
      config: RecorderConfig;
      events: TaskEvents;
      captureServer: CaptureServer;
      destinations: Destinations;
      browsers: BrowserSource;
      cgroups: Cgroups | null;
      log: Logger;
    },
  ) {
    this.marker = { ...d.config.marker, WEBRECORD_TASK: job.TaskID };
    this.log = d.log.child({ taskId: job.TaskID, attempt: job.attempt });
    this.finishing = { config: d.config, events: d.events, marker: this.marker, log: this.log };
    this.pipeline = new CapturePipeline(job, {
      config: d.config,
      captureServer: d.captureServer,
      destinations: d.destinations,
      marker: this.marker,
      log: this.log,
      warn: (message) => this.tell(message),
      fault: (f) => this.onFault(f),
    });
  }

  get taskId(): string {
    return this.job.TaskID;
  }

  /**
   * The markers of this recording's processes (its ffmpeg, its browser) while it records steadily:
   * what they use then is what a recording costs. Null while loading, paused or stopping.
   */
  /** Frames per second captured over the last window, while recording. */
  fps(): number | null {
    return this.pipeline.fps ?? null;
  }

  costMarkers(): Marker[] | null {
    if (!this.capturing || this.pauseWanted || this.stopReason || !this.source) return null;
    return [{ WEBRECORD_TASK: this.job.TaskID }, { WEBRECORD_BROWSER: this.source.rb.id }];
  }

  /** Runs the whole recording; never throws (failures become events). */
  async run(): Promise<void> {
    try {
      await this.record();
    } catch (err) {
      this.log.error({ err: String(err), stack: (err as Error).stack }, 'recording failed');
      await failed(this.d.events, TaskErrorCode.RecordFailed, `recording failed: ${(err as Error).message ?? String(err)}`);
    } finally {
      await this.cleanup();
    }
  }

  /** A command from the task (the API's, checked against the task's state there). */
  command(type: RecorderCommand['type']): void {
    if (type === 'stop') return this.requestStop('command');
    if (type !== 'refresh') this.pauseAsked = type === 'pause';
    void this.enqueue(type);
  }

  /** The service is going down: close what was recorded so far and report it. */
  shutdown(): void {
    this.requestStop('shutdown');
  }

  /** The disk under DATA_DIR is (nearly) full: end with what was recorded, saying so. */
  diskFull(why: string): void {
    this.onFault({ kind: 'disk', why });
  }

  /** The files and folders it writes into now (the disk guard watches the space left there). */
  writesTo(): string[] {
    return this.stopReason ? [] : this.pipeline.writesTo();
  }

  /** Tells the task something about its recording that changes nothing (e.g. the disk filling). */
  warn(message: string): void {
    if (this.stopReason) return;
    this.log.warn({ message }, 'warning');
    this.tell(message);
  }

  /** A warning for the task, and for the video's quality report once the capture runs. */
  private tell(message: string): void {
    if (this.capturing) this.pipeline.quality.warned(message);
    void this.d.events.emit({ type: 'warning', message });
  }

  private async record(): Promise<void> {
    const { request } = this.job;
    const { config, browsers, cgroups, captureServer, events } = this.d;
    this.source = await PageSource.open(
      this.job,
      {
        config,
        browsers,
        cgroups,
        captureHostPort: () => captureServer.hostPort,
        marker: this.marker,
        log: this.log,
        warn: (message) => this.tell(message),
        crashed: () => {
          if (this.capturing) this.pipeline.quality.crashed();
        },
        reloading: () => {
          if (this.capturing) this.pipeline.quality.reloaded();
        },
        ended: (why) => this.requestStop(why),
      },
      () => !!this.stopReason,
    );
    await this.source.exposeControls((control) => this.onPageControl(control));

    if (!this.stopReason) {
      // A Stop while the page is still loading need not wait for the load.
      const loadError = await Promise.race([this.source.load(), this.stopAsked.then(() => null)]);
      if (loadError && !this.stopReason) {
        await failed(events, TaskErrorCode.PageLoadFailed, loadError);
        return;
      }
      if (!request.ManualStart) this.startCapture();
    }

    await this.stopAsked;
    const stopAt = performance.now();
    const recorded = await this.closeCapture();
    this.timings.capture = Math.round(performance.now() - stopAt);
    // The last chunk is in: the browser goes at once (its profile is removed after the result).
    this.source.kill();
    const failure = this.failure();
    if (!recorded && failure) {
      await failed(events, failure.code, `${failure.why}, before anything was recorded`);
      return;
    }
    await events.emit({ type: 'stopped', recorded });
    if (!recorded) return;

    if (this.progressTimer) clearInterval(this.progressTimer);
    const { output, muxer, intermediatePath } = this.pipeline;
    const finishing = { ...this.finishing, raw: this.pipeline.raw, storeKind: this.d.destinations.kindOf(this.job.request) };
    const made = await completeOutput(finishing, this.job.TaskID, output!, muxer, [intermediatePath!], this.timings);
    if (!made) return;
    // The live ffmpeg found the silences only if it made the output to its end.
    const silenceHeard = !!muxer && !muxer.failed;
    const videos = made.map((v) => ({ ...v, Quality: this.pipeline.quality.report(v.FileDuration, silenceHeard) }));
    await reportResult(finishing, this.job.TaskID, output!, videos, failure);
    this.timings.total = Math.round(performance.now() - stopAt);
    this.d.config.metrics?.finished(this.job.request.Output.Video.Muxer, this.timings.total / 1000);
    this.log.info({ stopMs: this.timings, fps: this.pipeline.fps }, 'finished');
  }

  /** Commands apply one at a time, in the order asked; a failure is reported as a warning. */
  private enqueue(type: 'pause' | 'resume' | 'refresh'): Promise<void> {
    const run = this.commands.then(() => this.apply(type));
    this.commands = run.catch((err) => {
      this.log.warn({ command: type, err: String(err) }, 'command failed');
      this.tell(`${type} failed: ${(err as Error).message}`);
    });
    return run;
  }

  /**
   * What the page asked through its own controls, under the state rules of the API command of that
   * name, judged here where the capture is: the task follows from the events this sends.
   */
  private async onPageControl(control: PageControl): Promise<void> {
    switch (control) {
      case 'start':
        if (this.job.request.ManualStart) this.startCapture();
        // Answered once the first frame is in (or the capture could not start).
        await this.captureStart;
        return;
      case 'stop':
        if (this.stopAskedByPage || this.stopReason) return; // as Stop: a second one succeeds
        this.stopAskedByPage = true;
        await this.d.events.emit({ type: 'stopRequested' });
        return;
      case 'pause':
      case 'resume': {
        const needs = control === 'pause' ? 'recording' : 'paused';
        const status = this.pageStatus();
        if (status !== needs) throw new ControlRefused('InvalidState', `${control === 'pause' ? 'Pause' : 'Resume'} needs a task that is ${needs}; this task is ${status}`);
        this.pauseAsked = control === 'pause';
        await this.enqueue(control);
        return;
      }
      case 'refresh':
        if (this.pageStatus() === 'canceled') {
          throw new ControlRefused('InvalidState', 'Refresh needs a task that is normal, recording or paused; this task is canceled');
        }
        // After the answer has gone back: the page that asked is about to be replaced.
        setTimeout(() => void this.enqueue('refresh').catch(() => undefined), 20);
        return;
    }
  }

  /** The task's status as the page's controls see it. */
  private pageStatus(): 'normal' | 'recording' | 'paused' | 'canceled' {
    if (this.stopReason || this.stopAskedByPage) return 'canceled';
    if (!this.capturing) return 'normal';
    return this.pauseAsked ? 'paused' : 'recording';
  }

  private onFault(f: PipelineFault): void {
    if (this.stopReason) return;
    this.captureError = f.why;
    this.requestStop(f.kind === 'disk' ? 'disk' : 'capture-failed');
  }

  private requestStop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.wakeStop();
  }

  /** Why the recording ended, when it was not asked to. */
  private failure(): Failure | null {
    switch (this.stopReason) {
      case 'crash':
        return { code: TaskErrorCode.RecordFailed, why: 'the browser or the page crashed' };
      case 'memory':
        return { code: TaskErrorCode.RecordFailed, why: this.source?.memoryFailure() ?? 'the page used more memory than RECORDING_MEMORY_MB allows' };
      case 'capture-failed':
        return { code: TaskErrorCode.RecordFailed, why: `the capture failed (${this.captureError})` };
      case 'disk':
        return { code: TaskErrorCode.RecordFailed, why: this.captureError };
      case 'shutdown':
        return { code: TaskErrorCode.RecorderLost, why: 'the recorder shut down' };
      default:
        return null;
    }
  }

  private startCapture(): void {
    if (this.captureStart || this.stopReason || !this.source) return;
    const source = this.source;
    const { request } = this.job;
    this.captureStart = (async () => {
      const frame = await this.pipeline.start(source);
      if (frame.width !== request.Width || frame.height !== request.Height) {
        const message = `captured frames are ${frame.width}×${frame.height}, not ${request.Width}×${request.Height}`;
        this.log.warn(message);
        this.pipeline.quality.warned(message);
        await this.d.events.emit({ type: 'warning', message });
      }
      await this.d.events.emit({ type: 'recording', width: frame.width, height: frame.height }, frame.at);
      this.capturing = true;
      // Only now: minimized before the capture holds the page, the page would be hidden.
      void source.hide().catch((err) => {
        if (!this.stopReason) this.log.warn({ err: String(err) }, 'cannot minimize the window (the recording costs more CPU)');
      });
      if (this.pauseWanted) await this.apply('pause');
      this.reportProgress();
    })().catch((err) => {
      this.log.error({ err: String(err) }, 'capture did not start');
      this.onFault({ kind: 'capture', why: (err as Error).message ?? String(err) });
    });
  }

  private async apply(type: 'pause' | 'resume' | 'refresh'): Promise<void> {
    if (type === 'refresh') {
      if (!this.source) return;
      await this.source.reload();
      await this.d.events.emit({ type: 'refreshed' });
      return;
    }
    if (!this.pipeline.started) {
      this.pauseWanted = type === 'pause';
      return;
    }
    if (type === 'pause') await this.pipeline.pause();
    else await this.pipeline.resume();
    this.pauseWanted = type === 'pause';
    await this.d.events.emit({ type: type === 'pause' ? 'paused' : 'resumed' });
  }

  /** Stops the capture and closes the intermediate file; tells whether anything was recorded. */
  private async closeCapture(): Promise<boolean> {
    await this.captureStart;
    await this.commands;
    return this.pipeline.close();
  }

  /** How far the recording has got, and what can be watched already (a live HLS playlist), as it grows. */
  private reportProgress(): void {
    let lastWatchable = -1;
    let lastRecorded = -1;
    const tick = async () => {
      const video = await this.pipeline.live();
      const progress = this.pipeline.progress();
      const grew = (video && video.FileDuration !== lastWatchable) || (progress && progress.RecordedSeconds !== lastRecorded);
      if (!grew || this.stopReason) return;
      if (video) lastWatchable = video.FileDuration;
      if (progress) lastRecorded = progress.RecordedSeconds;
      await this.d.events.emit({ type: 'progress', videos: video ? [video] : [], ...(progress ? { progress } : {}) });
    };
    this.progressTimer = setInterval(() => void tick(), 2000);
  }

  private async cleanup(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.pipeline.abort();
    const browserMarker = this.source?.rb.marker;
    await this.source?.close();
    this.source = null;
    // This attempt's scratch files (a partial MP4 that was never finished, the HLS key info, an HLS
    // set made for a remote store).
    const scratch = `${this.job.TaskID}-${this.job.attempt}`;
    await removeScratch(dirs(this.d.config.dataDir).tmp, (n) => n.startsWith(`${scratch}.`) || n === `${scratch}-hls`);
    // Whatever is left of this task's processes (a renderer that outlived its browser, ffmpeg).
    const swept = sweepMarked(this.marker) + (browserMarker ? sweepMarked(browserMarker) : 0);
    if (swept) this.log.warn({ swept }, 'ended leftover processes of the task');
  }
}

async function removeScratch(tmpDir: string, mine: (name: string) => boolean): Promise<void> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  await Promise.all(names.filter(mine).map((n) => rm(join(tmpDir, n), { force: true, recursive: true })));
}
