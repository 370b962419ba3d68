// One recording: a browser with the task's page (the source), the capture streaming into the
// intermediate file (the sink), then the finished file put into its storage target. Reports every
// step as an event; knows nothing of the task's state machine beyond obeying commands.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { TaskErrorCode } from '../protocol/errors.js';
import type { RecorderCommand, StartJob } from '../protocol/recorder.js';
import type { Video } from '../protocol/task.js';
import type { Cgroups } from '../lib/cgroups.js';
import { type Marker, sweepMarked } from '../lib/child-process.js';
import { diskFault, diskFaultIn } from '../lib/disk-space.js';
import type { Logger } from '../lib/logger.js';
import type { RecordingBrowser } from './capture/browser.js';
import type { BrowserSource } from './capture/browser-pool.js';
import { collectCaptureGarbage } from './capture/capture-gc.js';
import type { CaptureServer } from './capture/capture-server.js';
import { profilesDirFor } from './capture/browser-sandbox.js';
import { BLOCKED_HEADER } from './capture/egress-proxy.js';
import { hideWindow } from './capture/hide-window.js';
import { TabCapture } from './capture/tab-capture.js';
import type { TaskEvents } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import type { Output } from './outputs/output.js';
import { planOutput, remake } from './outputs/plan.js';
import { ControlRefused, exposePageControls, type PageControl } from './page-controls.js';
import { FrameRateWatch } from './frame-rate-watch.js';
import type { FfmpegError } from './ffmpeg/run.js';
import { FanOut } from './sinks/fan-out.js';
import { IntermediateFile } from './sinks/intermediate-file.js';
import { LiveMuxer } from './sinks/live-muxer.js';
import type { StorageTarget } from './storage/target.js';

type StopReason = 'command' | 'crash' | 'memory' | 'shutdown' | 'capture-failed' | 'disk';

/** Chromium's names for what the egress proxy met, so a message reads as it did without the proxy. */
const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'net::ERR_CONNECTION_REFUSED',
  ECONNRESET: 'net::ERR_CONNECTION_RESET',
  ETIMEDOUT: 'net::ERR_CONNECTION_TIMED_OUT',
  EHOSTUNREACH: 'net::ERR_ADDRESS_UNREACHABLE',
  ENETUNREACH: 'net::ERR_ADDRESS_UNREACHABLE',
  ENOTFOUND: 'net::ERR_NAME_NOT_RESOLVED',
  EAI_AGAIN: 'net::ERR_NAME_NOT_RESOLVED',
};

const FPS = 30;
/** A page that crashes more often than this is given up on. */
const MAX_CRASH_RELOADS = 3;
/** How often the browser's cgroup is asked whether the kernel stopped one of its processes. */
const MEMORY_CHECK_MS = 500;

export class Session {
  private rb: RecordingBrowser | null = null;
  private capture: TabCapture | null = null;
  private sink: IntermediateFile | null = null;
  private output: Output | null = null;
  private muxer: LiveMuxer | null = null;
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
  private crashReloads = 0;
  /** Hosts the URL policy refused the page, with why (each reported once). */
  private readonly blocked = new Map<string, string>();
  private frameRate: FrameRateWatch | null = null;
  private stopGc: (() => void) | null = null;
  private memoryTimer: NodeJS.Timeout | null = null;
  private readonly marker: Marker;
  private readonly log: Logger;

  constructor(
    private readonly job: StartJob,
    private readonly d: {
      config: RecorderConfig;
      events: TaskEvents;
      captureServer: CaptureServer;
      storage: StorageTarget;
      browsers: BrowserSource;
      cgroups: Cgroups | null;
      log: Logger;
    },
  ) {
    this.marker = { ...d.config.marker, WEBRECORD_TASK: job.TaskID };
    this.log = d.log.child({ taskId: job.TaskID, attempt: job.attempt });
  }

  get taskId(): string {
    return this.job.TaskID;
  }

  /**
   * The markers of this recording's processes (its ffmpeg, its browser) while it records steadily:
   * what they use then is what a recording costs. Null while loading, paused or stopping.
   */
  costMarkers(): Marker[] | null {
    if (!this.capturing || this.pauseWanted || this.stopReason || !this.rb) return null;
    return [{ WEBRECORD_TASK: this.job.TaskID }, { WEBRECORD_BROWSER: this.rb.id }];
  }

  /** Runs the whole recording; never throws (failures become events). */
  async run(): Promise<void> {
    try {
      await this.record();
    } catch (err) {
      this.log.error({ err: String(err), stack: (err as Error).stack }, 'recording failed');
      await this.emitFailed(TaskErrorCode.RecordFailed, `recording failed: ${(err as Error).message ?? String(err)}`, []);
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

  /** Commands apply one at a time, in the order asked; a failure is reported as a warning. */
  private enqueue(type: 'pause' | 'resume' | 'refresh'): Promise<void> {
    const run = this.commands.then(() => this.apply(type));
    this.commands = run.catch((err) => {
      this.log.warn({ command: type, err: String(err) }, 'command failed');
      void this.d.events.emit({ type: 'warning', message: `${type} failed: ${(err as Error).message}` });
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

  /** The service is going down: close what was recorded so far and report it. */
  shutdown(): void {
    this.requestStop('shutdown');
  }

  /** The disk under DATA_DIR is (nearly) full: end with what was recorded, saying so. */
  diskFull(why: string): void {
    if (this.stopReason) return;
    this.captureError = why;
    this.requestStop('disk');
  }

  /** The files and folders it writes into now (the disk guard watches the space left there). */
  writesTo(): string[] {
    if (this.stopReason) return [];
    return [this.sink?.path, this.output?.where].filter((p): p is string => !!p);
  }

  /** Tells the task something about its recording that changes nothing (e.g. the disk filling). */
  warn(message: string): void {
    if (this.stopReason) return;
    this.log.warn({ message }, 'warning');
    void this.d.events.emit({ type: 'warning', message });
  }

  private requestStop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.wakeStop();
  }

  private async record(): Promise<void> {
    const { request } = this.job;
    this.rb = await this.launch();
    const { browser, page } = this.rb;
    this.rb.egress.onBlocked = (host, reason) => this.onBlocked(host, reason);
    browser.on('disconnected', () => this.requestStop(this.overMemory() ? 'memory' : 'crash'));
    // Nobody is there to answer a dialog: an alert or a beforeunload prompt would freeze the page.
    page.on('dialog', (dialog) => void dialog.accept().catch(() => undefined));
    page.on('error', (err) => {
      // Reloaded, the page would only eat its way to the cap again.
      if (this.overMemory()) return this.requestStop('memory');
      if (++this.crashReloads > MAX_CRASH_RELOADS) {
        this.log.warn({ err: String(err) }, 'the page keeps crashing; stopping');
        return this.requestStop('crash');
      }
      this.log.warn({ err: String(err) }, 'the page crashed; reloading it');
      void this.d.events.emit({ type: 'warning', message: `the page crashed (${String(err)}); reloading it` });
      void page.reload().catch(() => undefined);
    });
    await exposePageControls(page, (control) => this.onPageControl(control));
    if (this.rb.cgroup) {
      this.memoryTimer = setInterval(() => {
        if (this.overMemory()) this.requestStop('memory');
      }, MEMORY_CHECK_MS);
    }

    if (!this.stopReason) {
      // A Stop while the page is still loading need not wait for the load.
      const loadError = await Promise.race([this.load(page), this.stopAsked.then(() => null)]);
      if (loadError && !this.stopReason) {
        await this.emitFailed(TaskErrorCode.PageLoadFailed, loadError, []);
        return;
      }
      if (!request.ManualStart) this.startCapture();
    }

    await this.stopAsked;
    const stopAt = performance.now();
    const recorded = await this.closeCapture();
    this.timings.capture = Math.round(performance.now() - stopAt);
    // The last chunk is in: the browser goes at once (its profile is removed after the result).
    this.rb.kill();
    const failure = this.failure();
    if (!recorded && failure) {
      await this.emitFailed(failure.code, `${failure.why}, before anything was recorded`, []);
      return;
    }
    await this.d.events.emit({ type: 'stopped', recorded });
    if (!recorded) return;

    const videos = await this.finish();
    if (!videos) return;
    const reported = failure
      ? await this.emitFailed(failure.code, `${failure.why}; the video holds what was recorded until then`, videos)
      : await this.d.events.emit({ type: 'finished', videos });
    this.timings.total = Math.round(performance.now() - stopAt);
    this.log.info({ stopMs: this.timings, fps: this.frameRate?.fps }, 'finished');
    if (!reported) {
      // The task never heard of its file: whoever finishes the task next remakes it from these.
      this.log.warn('the result was not reported; the intermediate recording is kept for recovery');
      return;
    }
    // The result is safe and reported: the intermediate recording is no longer needed. (Deleting
    // gigabytes takes a while, so it is not on the way to the result.)
    await rm(join(dirs(this.d.config.dataDir).cfs, this.job.TaskID), { recursive: true, force: true });
  }

  /**
   * Whether the kernel killed a process of the browser for going over its memory cap. (A page over
   * it may lose a helper process rather than its renderer and crash nothing: the watch asks too.)
   */
  private overMemory(): boolean {
    return (this.rb?.cgroup?.oomKills() ?? 0) > 0;
  }

  /** Why the recording ended, when it was not asked to. */
  private failure(): { code: string; why: string } | null {
    switch (this.stopReason) {
      case 'crash':
        return { code: TaskErrorCode.RecordFailed, why: 'the browser or the page crashed' };
      case 'memory':
        return { code: TaskErrorCode.RecordFailed, why: `the page used more than ${Math.round(this.rb!.cgroup!.memoryBytes / 1048576)} MB of memory (RECORDING_MEMORY_MB); its browser was stopped` };
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

  /** A browser for the task; one more try if the first launch fails (a busy machine, a slow start). */
  private async launch(): Promise<RecordingBrowser> {
    const { request } = this.job;
    const { config } = this.d;
    for (let attempt = 1; ; attempt++) {
      try {
        const t0 = performance.now();
        const { rb, warm } = await this.d.browsers.take({
          chromiumPath: config.chromiumPath,
          extraFlags: config.chromiumFlags,
          width: request.Width,
          height: request.Height,
          tmpDir: profilesDirFor(config.dataDir, config.browserIdentity),
          marker: this.marker,
          identity: config.browserIdentity,
          egress: { policy: config.urlPolicy, exempt: () => [this.d.captureServer.hostPort] },
          cgroups: this.d.cgroups,
        });
        this.log.info({ browser: rb.id, warm, ms: Math.round(performance.now() - t0) }, 'browser ready');
        return rb;
      } catch (err) {
        if (attempt >= 2 || this.stopReason) throw err;
        this.log.warn({ err: String(err) }, 'browser launch failed; trying once more');
      }
    }
  }

  /** A request of the page that the egress proxy refused: a warning on the task, once per host. */
  private onBlocked(host: string, reason: string): void {
    if (this.blocked.has(host)) return;
    this.blocked.set(host, reason);
    this.log.warn({ host, reason }, 'a request of the page was blocked by the URL policy');
    void this.d.events.emit({ type: 'warning', message: `a request of the page to ${host} was blocked by the URL policy: ${reason}` });
  }

  /** Loads the page; answers why it failed, or null. */
  private async load(page: Page): Promise<string | null> {
    const { RecordURL, ReadyTimeout } = this.job.request;
    const host = new URL(RecordURL).hostname.replace(/^\[|\]$/g, '');
    // What the egress proxy saw is the real reason: the browser only sees the proxy's answer.
    const blocked = () => {
      const reason = this.blocked.get(host) ?? this.blocked.get(`[${host}]`);
      return reason ? `RecordURL is outside the URL policy: ${reason}` : null;
    };
    const unreachable = () => {
      const failure = this.rb?.egress.failureOf(host);
      return failure ? `RecordURL could not be loaded: ${NET_ERRORS[failure] ?? failure} (${failure})` : null;
    };
    try {
      const res = await page.goto(RecordURL, { waitUntil: 'load', timeout: ReadyTimeout * 1000 });
      // A redirect of the navigation that the proxy refused answers with the reason.
      const viaRedirect = res?.headers()[BLOCKED_HEADER];
      const refused = blocked() ?? (viaRedirect ? `RecordURL is outside the URL policy: ${viaRedirect.replace(/^blocked by the URL policy: /, '')}` : null) ?? (res?.status() === 502 ? unreachable() : null);
      if (refused) return refused;
      if (res && res.status() >= 400) return `RecordURL answered HTTP ${res.status()}`;
      return null;
    } catch (err) {
      const msg = (err as Error).message ?? String(err);
      const refused = blocked() ?? unreachable();
      if (refused) return refused;
      if ((err as Error).name === 'TimeoutError') return `RecordURL did not finish loading within ${ReadyTimeout} s`;
      return `RecordURL could not be loaded: ${msg.split('\n')[0]}`;
    }
  }

  private startCapture(): void {
    if (this.captureStart || this.stopReason || !this.rb) return;
    const rb = this.rb;
    const { request, TaskID, attempt } = this.job;
    this.captureStart = (async () => {
      const { config, storage } = this.d;
      this.sink = await IntermediateFile.create(join(dirs(config.dataDir).cfs, TaskID, `${attempt}.mkv`));
      const sinkPath = this.sink.path;
      this.sink.onFailure = (err) => {
        this.log.error({ err: String(err) }, 'writing the intermediate file failed');
        this.diskFull(diskFault(err, sinkPath) ?? `writing ${sinkPath} failed (${(err as NodeJS.ErrnoException).code ?? err.message})`);
      };
      this.output = await planOutput(this.job, { config, storage, marker: this.marker });
      this.muxer = LiveMuxer.start(config.ffmpegPath, this.output, this.marker);
      const output = this.output;
      // A full disk under the output ends the recording (with what it holds); any other failure of
      // the live ffmpeg only means the output is made again from the intermediate file at Stop.
      this.muxer.onFailure = (why, stderr) => {
        const disk = diskFaultIn(stderr, output.where);
        this.log[disk ? 'error' : 'warn']({ why }, 'the live ffmpeg failed');
        if (disk) this.diskFull(disk);
      };
      const watch = new FrameRateWatch(config.fpsWarningBelow, (fps, seconds) => {
        const message = `the recording captured ${fps.toFixed(1)} frames per second over its last ${Math.round(seconds)} s (under ${config.fpsWarningBelow}, FPS_WARNING_BELOW): the recorder may be overloaded`;
        this.log.warn({ fps: +fps.toFixed(2) }, 'low frame rate');
        void this.d.events.emit({ type: 'warning', message });
      });
      this.muxer.onProgress = (p) => watch.add(p.frames, p.seconds);
      this.frameRate = watch;
      const capture = await TabCapture.start(rb.sw, this.d.captureServer, new FanOut(this.sink, [this.muxer]), {
        tabId: rb.tabId,
        width: request.Width,
        height: request.Height,
        fps: FPS,
      });
      this.capture = capture;
      this.stopGc = await collectCaptureGarbage(rb.browser, (err) => this.log.debug({ err: String(err) }, 'capture document GC failed')).catch((err) => {
        this.log.warn({ err: String(err) }, 'cannot reach the capture document to collect its garbage');
        return null;
      });
      capture.onMessage = (m) => this.log[m.type === 'error' ? 'warn' : 'debug']({ capture: m.message }, 'capture says');
      // The socket closes as the browser dies, sometimes before the disconnect is seen: give that
      // a moment, so the failure is named for its cause.
      void capture.ended.then(() =>
        setTimeout(() => {
          if (this.stopReason) return;
          this.captureError = 'the capture ended by itself';
          this.requestStop('capture-failed');
        }, 500),
      );
      const frame = await Promise.race([
        capture.firstFrame,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no frame within 10 s of starting the capture')), 10_000)),
      ]);
      if (frame.width !== request.Width || frame.height !== request.Height) {
        const message = `captured frames are ${frame.width}×${frame.height}, not ${request.Width}×${request.Height}`;
        this.log.warn(message);
        await this.d.events.emit({ type: 'warning', message });
      }
      await this.d.events.emit({ type: 'recording', width: frame.width, height: frame.height }, frame.at);
      this.capturing = true;
      // Only now: minimized before the capture holds the page, the page would be hidden.
      void hideWindow(rb.page).catch((err) => {
        if (!this.stopReason) this.log.warn({ err: String(err) }, 'cannot minimize the window (the recording costs more CPU)');
      });
      if (this.pauseWanted) await this.apply('pause');
      this.reportProgress();
    })().catch((err) => {
      this.log.error({ err: String(err) }, 'capture did not start');
      this.captureError = (err as Error).message ?? String(err);
      this.requestStop('capture-failed');
    });
  }

  private async apply(type: 'pause' | 'resume' | 'refresh'): Promise<void> {
    if (type === 'refresh') {
      if (!this.rb) return;
      await this.rb.page.reload({ waitUntil: 'load', timeout: this.job.request.ReadyTimeout * 1000 });
      await this.d.events.emit({ type: 'refreshed' });
      return;
    }
    if (!this.capture) {
      this.pauseWanted = type === 'pause';
      return;
    }
    if (type === 'pause') await this.capture.pause();
    else await this.capture.resume();
    this.pauseWanted = type === 'pause';
    await this.d.events.emit({ type: type === 'pause' ? 'paused' : 'resumed' });
  }

  /** Stops the capture and closes the intermediate file; tells whether anything was recorded. */
  private async closeCapture(): Promise<boolean> {
    await this.captureStart;
    await this.commands;
    this.stopGc?.();
    if (this.capture) await this.capture.stop();
    if (this.sink) await this.sink.close();
    return (this.sink?.bytes ?? 0) > 0;
  }

  /** What can be watched already (a live HLS playlist) is reported as it grows. */
  private reportProgress(): void {
    let last = -1;
    const tick = async () => {
      const video = await this.output?.live().catch(() => null);
      if (video && video.FileDuration !== last && !this.stopReason) {
        last = video.FileDuration;
        await this.d.events.emit({ type: 'progress', videos: [video] });
      }
    };
    this.progressTimer = setInterval(() => void tick(), 2000);
  }

  /**
   * Finishes the output (the live muxer only has the tail left to write; if it failed, the output
   * is made again from the intermediate file) and publishes it. Null when that failed (reported).
   */
  private async finish(): Promise<Video[] | null> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    const { config } = this.d;
    const output = this.output!;
    const t0 = performance.now();
    try {
      await this.muxer!.close();
    } catch (err) {
      this.log.warn({ err: String(err) }, 'live muxing failed; making the output from the intermediate file');
      try {
        await output.discard();
        await remake(config.ffmpegPath, output, [this.sink!.path], this.marker, dirs(config.dataDir).tmp);
      } catch (err2) {
        const disk = diskFaultIn(`${(err2 as FfmpegError).stderr ?? ''} ${(err2 as Error).message}`, output.where);
        // The intermediate recording stays (it is removed only after a result): a remake can follow once there is room.
        if (disk) await this.emitFailed(TaskErrorCode.RecordFailed, `${disk}; no video could be made from what was recorded`, []);
        else await this.emitFailed(TaskErrorCode.TranscodeFailed, `making the output failed: ${(err2 as Error).message}`, []);
        return null;
      }
    }
    this.timings.tail = Math.round(performance.now() - t0);
    await this.d.events.emit({ type: 'uploading' });
    let video: Video;
    const t1 = performance.now();
    try {
      video = await output.finalize(Date.now());
      this.timings.publish = Math.round(performance.now() - t1);
    } catch (err) {
      const disk = diskFault(err, output.where);
      if (disk) await this.emitFailed(TaskErrorCode.RecordFailed, `${disk}; no video could be made from what was recorded`, []);
      else await this.emitFailed(TaskErrorCode.UploadFailed, `storing the output failed: ${(err as Error).message}`, []);
      return null;
    }
    return [video];
  }

  private emitFailed(code: string, message: string, videos: Video[]): Promise<boolean> {
    return this.d.events.emit({ type: 'failed', code, message, videos });
  }

  private async cleanup(): Promise<void> {
    if (this.progressTimer) clearInterval(this.progressTimer);
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.stopGc?.();
    this.muxer?.abort();
    const browserMarker = this.rb?.marker;
    await this.rb?.close().catch(() => undefined);
    this.rb = null;
    // This attempt's scratch files (a partial MP4 that was never finished, the HLS key info).
    await removeScratch(dirs(this.d.config.dataDir).tmp, `${this.job.TaskID}-${this.job.attempt}.`);
    // Whatever is left of this task's processes (a renderer that outlived its browser, ffmpeg).
    const swept = sweepMarked(this.marker) + (browserMarker ? sweepMarked(browserMarker) : 0);
    if (swept) this.log.warn({ swept }, 'ended leftover processes of the task');
  }
}

async function removeScratch(tmpDir: string, prefix: string): Promise<void> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(tmpDir, n), { force: true })));
}
