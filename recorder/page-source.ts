// The source of a recording (LiveKit Egress's "web source"): a browser holding the task's page. It
// launches (one more try if the first fails), keeps the page alive (dialogs accepted, a crashed
// page reloaded a few times), watches its memory cap, tells of requests the URL policy refused, and
// loads the page, naming why it could not. It knows nothing of the capture or the task's state.
import type { Page } from 'puppeteer-core';
import type { Cgroups } from '../lib/cgroups.js';
import type { Marker } from '../lib/child-process.js';
import type { Logger } from '../lib/logger.js';
import type { StartJob } from '../protocol/recorder.js';
import type { RecordingBrowser } from './capture/browser.js';
import type { BrowserSource } from './capture/browser-pool.js';
import { profilesDirFor } from './capture/browser-sandbox.js';
import { BLOCKED_HEADER } from './capture/egress-proxy.js';
import { hideWindow } from './capture/hide-window.js';
import type { RecorderConfig } from './config.js';
import { exposePageControls, type PageControl } from './page-controls.js';

/** Why the source ended by itself. */
export type SourceEnd = 'crash' | 'memory';

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

/** A page that crashes more often than this is given up on. */
const MAX_CRASH_RELOADS = 3;
/** How often the browser's cgroup is asked whether the kernel stopped one of its processes. */
const MEMORY_CHECK_MS = 500;

export type PageSourceDeps = {
  config: RecorderConfig;
  browsers: BrowserSource;
  cgroups: Cgroups | null;
  /** host:port of the capture server, which the egress proxy lets through. */
  captureHostPort: () => string;
  marker: Marker;
  log: Logger;
  /** Something the task should hear that changes nothing (a crash reloaded, a blocked request). */
  warn: (message: string) => void;
  /** The page crashed (it is reloaded, unless it kept crashing). */
  crashed: () => void;
  /** The page is being reloaded (Refresh, window.refreshPage(), after a crash). */
  reloading: () => void;
  /** The source ended by itself (once). */
  ended: (why: SourceEnd) => void;
};

export class PageSource {
  /** Hosts the URL policy refused the page, with why (each reported once). */
  private readonly blocked = new Map<string, string>();
  private crashReloads = 0;
  private memoryTimer: NodeJS.Timeout | null = null;
  private endedAs: SourceEnd | null = null;

  private constructor(
    readonly rb: RecordingBrowser,
    private readonly job: StartJob,
    private readonly d: PageSourceDeps,
  ) {}

  /** Launches the browser and watches it; `stopped()` says whether to give up on a failed launch. */
  static async open(job: StartJob, d: PageSourceDeps, stopped: () => boolean): Promise<PageSource> {
    const source = new PageSource(await launch(job, d, stopped), job, d);
    source.watch();
    return source;
  }

  get page(): Page {
    return this.rb.page;
  }

  /** The page's own controls (window.startRecord() and the others), surviving reloads. */
  exposeControls(handle: (control: PageControl) => Promise<void>): Promise<void> {
    return exposePageControls(this.rb.page, handle);
  }

  /** Loads the page; answers why it failed, or null. */
  async load(): Promise<string | null> {
    const { RecordURL, ReadyTimeout } = this.job.request;
    const host = new URL(RecordURL).hostname.replace(/^\[|\]$/g, '');
    // What the egress proxy saw is the real reason: the browser only sees the proxy's answer.
    const blocked = () => {
      const reason = this.blocked.get(host) ?? this.blocked.get(`[${host}]`);
      return reason ? `RecordURL is outside the URL policy: ${reason}` : null;
    };
    const unreachable = () => {
      const failure = this.rb.egress.failureOf(host);
      return failure ? `RecordURL could not be loaded: ${NET_ERRORS[failure] ?? failure} (${failure})` : null;
    };
    try {
      const res = await this.rb.page.goto(RecordURL, { waitUntil: 'load', timeout: ReadyTimeout * 1000 });
      // A redirect of the navigation that the proxy refused answers with the reason.
      const viaRedirect = res?.headers()[BLOCKED_HEADER];
      const refused =
        blocked() ?? (viaRedirect ? `RecordURL is outside the URL policy: ${viaRedirect.replace(/^blocked by the URL policy: /, '')}` : null) ?? (res?.status() === 502 ? unreachable() : null);
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

  reload(): Promise<unknown> {
    this.d.reloading();
    return this.rb.page.reload({ waitUntil: 'load', timeout: this.job.request.ReadyTimeout * 1000 });
  }

  /** Minimizes the window once the capture holds the page (it then costs less CPU). */
  hide(): Promise<void> {
    return hideWindow(this.rb.page);
  }

  /** Why the page used more than its cap, if the kernel stopped one of its processes for it. */
  memoryFailure(): string | null {
    if (!this.overMemory()) return null;
    return `the page used more than ${Math.round(this.rb.cgroup!.memoryBytes / 1048576)} MB of memory (RECORDING_MEMORY_MB); its browser was stopped`;
  }

  /** At once: once the last chunk is in, nothing in the browser is worth a graceful shutdown. */
  kill(): void {
    this.stopWatching();
    this.rb.kill();
  }

  async close(): Promise<void> {
    this.stopWatching();
    await this.rb.close().catch(() => undefined);
  }

  private watch(): void {
    const { browser, page } = this.rb;
    this.rb.egress.onBlocked = (host, reason) => this.onBlocked(host, reason);
    browser.on('disconnected', () => this.end(this.overMemory() ? 'memory' : 'crash'));
    // Nobody is there to answer a dialog: an alert or a beforeunload prompt would freeze the page.
    page.on('dialog', (dialog) => void dialog.accept().catch(() => undefined));
    page.on('error', (err) => {
      // Reloaded, the page would only eat its way to the cap again.
      if (this.overMemory()) return this.end('memory');
      this.d.crashed();
      if (++this.crashReloads > MAX_CRASH_RELOADS) {
        this.d.log.warn({ err: String(err) }, 'the page keeps crashing; stopping');
        return this.end('crash');
      }
      this.d.log.warn({ err: String(err) }, 'the page crashed; reloading it');
      this.d.warn(`the page crashed (${String(err)}); reloading it`);
      this.d.reloading();
      void page.reload().catch(() => undefined);
    });
    // A page over its cap may lose a helper process rather than its renderer and crash nothing.
    if (this.rb.cgroup) {
      this.memoryTimer = setInterval(() => {
        if (this.overMemory()) this.end('memory');
      }, MEMORY_CHECK_MS);
    }
  }

  private end(why: SourceEnd): void {
    if (this.endedAs) return;
    this.endedAs = why;
    this.stopWatching();
    this.d.ended(why);
  }

  private stopWatching(): void {
    if (this.memoryTimer) clearInterval(this.memoryTimer);
    this.memoryTimer = null;
  }

  private overMemory(): boolean {
    return (this.rb.cgroup?.oomKills() ?? 0) > 0;
  }

  /** A request of the page that the egress proxy refused: a warning on the task, once per host. */
  private onBlocked(host: string, reason: string): void {
    if (this.blocked.has(host)) return;
    this.blocked.set(host, reason);
    this.d.log.warn({ host, reason }, 'a request of the page was blocked by the URL policy');
    this.d.warn(`a request of the page to ${host} was blocked by the URL policy: ${reason}`);
  }
}

/** A browser for the task; one more try if the first launch fails (a busy machine, a slow start). */
async function launch(job: StartJob, d: PageSourceDeps, stopped: () => boolean): Promise<RecordingBrowser> {
  const { request } = job;
  const { config } = d;
  for (let attempt = 1; ; attempt++) {
    try {
      const t0 = performance.now();
      const { rb, warm } = await d.browsers.take({
        chromiumPath: config.chromiumPath,
        extraFlags: config.chromiumFlags,
        width: request.Width,
        height: request.Height,
        tmpDir: profilesDirFor(config.dataDir, config.browserIdentity),
        marker: d.marker,
        identity: config.browserIdentity,
        egress: { policy: config.urlPolicy, exempt: () => [d.captureHostPort()] },
        cgroups: d.cgroups,
      });
      d.log.info({ browser: rb.id, warm, ms: Math.round(performance.now() - t0) }, 'browser ready');
      return rb;
    } catch (err) {
      if (attempt >= 2 || stopped()) throw err;
      d.log.warn({ err: String(err) }, 'browser launch failed; trying once more');
    }
  }
}
