// Warm browsers: `size` Chromium instances launched with the capture extension and its capture
// document ready, so a Start does not wait for a launch. Each is used for one task only and then
// closed (a fresh profile per task: no cookies, storage or cache pass between tasks); the pool is
// refilled in the background.
import type { Logger } from '../../lib/logger.js';
import { type LaunchOptions, launchBrowser, type RecordingBrowser, scaleFor } from './browser.js';

/** The size pooled browsers are launched at; a task of another size has its window resized. */
const POOL_WIDTH = 1280;
const POOL_HEIGHT = 720;
/** How often a pool waiting for room to launch looks again. */
const RECHECK_MS = 2000;
/** How long a pooled browser may take to answer before it is thought broken. */
const ALIVE_TIMEOUT_MS = 1000;

export type BrowserSource = {
  /** A browser for one task, sized width×height; `warm` when it came from the pool. */
  take(o: LaunchOptions): Promise<{ rb: RecordingBrowser; warm: boolean }>;
  stop(): Promise<void>;
};

export class BrowserPool implements BrowserSource {
  private readonly idle: RecordingBrowser[] = [];
  /** Takers waiting for a launch in progress (null: it failed). */
  private readonly waiters: ((rb: RecordingBrowser | null) => void)[] = [];
  private launching = 0;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly size: number,
    private readonly base: Omit<LaunchOptions, 'width' | 'height'>,
    private readonly log: Logger,
    /** Asked before each launch: a machine busy recording refills later rather than slow its recordings. */
    private readonly mayLaunch: () => boolean = () => true,
  ) {}

  start(): void {
    this.fill();
  }

  /** A recording ended: there may be room to launch now. */
  refill(): void {
    // A wait for room ends here; a back-off after failed launches does not.
    if (this.retryTimer && this.failures === 0) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    this.fill();
  }

  async take(o: LaunchOptions): Promise<{ rb: RecordingBrowser; warm: boolean }> {
    // A pooled browser has scale 1; a narrow page needs a browser launched for its scale.
    while (scaleFor(o.width) === 1 && (this.idle.length || this.launching > this.waiters.length)) {
      // One on its way (a service just started, say) is sooner ready than one launched now.
      const rb = this.idle.shift() ?? (await new Promise<RecordingBrowser | null>((r) => this.waiters.push(r)));
      if (!rb) break;
      // mayLaunch counts this task as starting: the refill waits until a launch cannot cost it frames.
      this.fill();
      if (!(await alive(rb))) {
        this.log.warn({ browser: rb.id }, 'a pooled browser stopped answering; closing it');
        void rb.close();
        continue;
      }
      try {
        await rb.fit(o.width, o.height);
        return { rb, warm: true };
      } catch (err) {
        this.log.warn({ browser: rb.id, err: String(err) }, 'a pooled browser could not be sized; launching another');
        void rb.close();
      }
    }
    return { rb: await launchBrowser(o), warm: false };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.waiters.splice(0)) w(null);
    await Promise.allSettled(this.idle.splice(0).map((rb) => rb.close()));
  }

  private fill(): void {
    if (this.stopped || this.retryTimer) return;
    while (this.idle.length + this.launching < this.size) {
      if (!this.mayLaunch()) return this.retryLater(RECHECK_MS);
      this.launching++;
      void launchBrowser({ ...this.base, width: POOL_WIDTH, height: POOL_HEIGHT })
        .then((rb) => {
          this.failures = 0;
          if (this.stopped) return void rb.close();
          // A pooled browser that dies while it waits is dropped (and replaced).
          rb.browser.once('disconnected', () => {
            const i = this.idle.indexOf(rb);
            if (i < 0) return;
            this.idle.splice(i, 1);
            void rb.close();
            this.fill();
          });
          const waiter = this.waiters.shift();
          if (waiter) return waiter(rb);
          this.idle.push(rb);
          this.log.info({ browser: rb.id, ready: this.idle.length }, 'a warm browser is ready');
        })
        .catch((err) => {
          this.waiters.shift()?.(null);
          if (this.stopped) return; // closed under it by the shutdown: not a failure
          this.failures++;
          this.log.warn({ err: String(err), failures: this.failures }, 'launching a warm browser failed');
          // Back off: a machine that cannot launch now will not be helped by launching again at once.
          this.retryLater(Math.min(60_000, 1000 * 2 ** this.failures));
        })
        .finally(() => {
          this.launching--;
          if (this.failures === 0) this.fill();
        });
    }
  }

  private retryLater(ms: number): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.fill();
    }, ms);
    this.retryTimer.unref();
  }
}

/** Every browser launched when asked: BROWSER_POOL=0. */
export class ColdBrowsers implements BrowserSource {
  async take(o: LaunchOptions): Promise<{ rb: RecordingBrowser; warm: boolean }> {
    return { rb: await launchBrowser(o), warm: false };
  }

  async stop(): Promise<void> {}
}

async function alive(rb: RecordingBrowser): Promise<boolean> {
  if (!rb.browser.connected) return false;
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), ALIVE_TIMEOUT_MS).unref());
  return Promise.race([
    rb.sw
      .evaluate(() => true)
      .then(
        () => true,
        () => false,
      ),
    timeout,
  ]);
}
