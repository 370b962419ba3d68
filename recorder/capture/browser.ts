// Launches one Chromium for one recording: new headless mode, the capture extension loaded, a fresh
// profile, and a tab whose viewport is exactly Width×Height CSS pixels (the window is resized until
// it is: the browser's own UI height differs between launches and sizes).
import { randomUUID } from 'node:crypto';
import { chmod, chown, cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page, type WebWorker } from 'puppeteer-core';
import { type Cgroups, joinCommand, type RecordingCgroup } from '../../lib/cgroups.js';
import { markedEnv, type Marker } from '../../lib/child-process.js';
import type { UrlPolicy } from '../../protocol/url-policy.js';
import { type BrowserIdentity, makeProfileDir, sandboxedCommand } from './browser-sandbox.js';
import { EgressProxy } from './egress-proxy.js';
import { EXTENSION_DIR, extensionId } from './extension.js';

/** Headless windows are never narrower than this many pixels; narrower pages get a higher device scale. */
const MIN_WINDOW_WIDTH = 500;

export type LaunchOptions = {
  chromiumPath: string;
  extraFlags: string[];
  width: number;
  height: number;
  /** Where the profile is made (dirs().browsers: the browser's user may pass through, not look). */
  tmpDir: string;
  marker: Marker;
  /** Who the browser runs as, and whether sandboxed (browser-sandbox.ts). */
  identity: BrowserIdentity;
  /** Every connection of the browser goes through its egress proxy, under this policy. */
  egress: { policy: UrlPolicy; /** host:port let through unchecked (the capture server) */ exempt: () => readonly string[] };
  /** Where the browser's cgroup is made (its memory capped, its CPU weighted); null where none can be. */
  cgroups: Cgroups | null;
};

export type RecordingBrowser = {
  /** Names the browser's processes (WEBRECORD_BROWSER in their environment). */
  id: string;
  marker: Marker;
  /** Device scale the browser was launched with (a narrow page needs a higher one). */
  scale: number;
  browser: Browser;
  page: Page;
  sw: WebWorker;
  tabId: number;
  /** Its way out: tells of each request the URL policy refused. */
  egress: EgressProxy;
  /** The cgroup its processes run in, or null. */
  cgroup: RecordingCgroup | null;
  /** Graceful: asks the browser to quit (then kills it), and removes its profile. */
  close(): Promise<void>;
  /** At once: once the last chunk is in, nothing in the browser is worth a graceful shutdown. */
  kill(): void;
  /** Makes the page's viewport width×height CSS pixels (a pooled browser meets its task's size). */
  fit(width: number, height: number): Promise<void>;
};

/** The device scale a page of this width is recorded at: headless windows have a minimum width. */
export const scaleFor = (width: number) => (width < MIN_WINDOW_WIDTH ? Math.ceil(MIN_WINDOW_WIDTH / width) : 1);

const EXT_ID = extensionId();

export async function launchBrowser(o: LaunchOptions): Promise<RecordingBrowser> {
  const profile = await makeProfileDir(o.tmpDir, o.identity);
  // The extension from inside the profile: wherever the code lives, the browser's user can read it.
  const extensionDir = join(profile, 'extension');
  await cp(EXTENSION_DIR, extensionDir, { recursive: true });
  if (o.identity.mode === 'user') {
    const { uid, gid } = o.identity;
    for (const f of ['', ...(await readdir(extensionDir))]) await chown(join(extensionDir, f), uid, gid);
  }
  await chmod(extensionDir, 0o755);
  const scale = scaleFor(o.width);
  const id = randomUUID();
  const marker = { ...o.marker, WEBRECORD_BROWSER: id };
  const egress = await EgressProxy.start(o.egress.policy, o.egress.exempt);
  const flags = [
    '--headless=new',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-breakpad',
    '--disable-features=OptimizationGuideOnDeviceModel,OnDeviceModelPerformanceParams,OptimizationHints',
    // Three minutes after launch Chromium starts its on-device AI model service (55 MB per recording)
    // to rate the machine, whatever the features above say; the delay is this feature's parameter, so
    // it is put off for ten years (seen in the histograms: OnDeviceModelPerformanceClass at 180 s).
    '--enable-features=LogOnDeviceMetricsOnStartup:on_device_startup_metric_delay/3650d',
    '--disable-crash-reporter',
    '--disable-dev-shm-usage',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--autoplay-policy=no-user-gesture-required',
    '--hide-scrollbars',
    '--force-color-profile=srgb',
    // Room for any window size up to 2560×2560 at the scale used for narrow pages.
    '--screen-info={0,0 6000x6000}',
    `--window-size=${Math.max(o.width, MIN_WINDOW_WIDTH)},${o.height + 100}`,
    ...(scale > 1 ? [`--force-device-scale-factor=${scale}`] : []),
    `--user-data-dir=${profile}`,
    `--load-extension=${extensionDir}`,
    `--disable-extensions-except=${extensionDir}`,
    // tabCapture without a user gesture needs the extension allow-listed.
    `--allowlisted-extension-id=${EXT_ID}`,
    // Not --mute-audio: it silences the captured audio too.
    ...o.extraFlags,
    // Last, so that no extra flag can take the guard away: everything through the egress proxy,
    // loopback too (Chromium bypasses a proxy for loopback unless told), and no UDP around it.
    `--proxy-server=http://${egress.address}`,
    '--proxy-bypass-list=<-loopback>',
    '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
  ];
  // Made here, not per task: a pooled browser is one recording's browser all its life.
  let cgroup: RecordingCgroup | null = null;
  try {
    cgroup = o.cgroups?.create(id) ?? null;
  } catch (err) {
    await egress.close();
    throw new Error(`cannot make the browser's cgroup in ${o.cgroups?.parents.join(' and ')} (${(err as Error).message})`, { cause: err });
  }
  const [file, args] = joinCommand(cgroup, ...sandboxedCommand(o.identity, o.chromiumPath, flags));
  let browser: Browser | null = null;
  const close = async () => {
    const proc = browser?.process();
    if (browser?.connected) await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 5000))]);
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await egress.close();
    // Once its last process is gone (a renderer may outlive the browser by a moment).
    await cgroup?.remove();
    await rm(profile, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  };
  try {
    browser = await puppeteer.launch({
      executablePath: file,
      args,
      ignoreDefaultArgs: true,
      pipe: true,
      defaultViewport: null,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      protocolTimeout: 60_000,
      // Its own HOME: what Chromium keeps there stays in the profile.
      env: markedEnv(marker, { ...process.env, HOME: profile }),
    });
    const swTarget = await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().startsWith(`chrome-extension://${EXT_ID}/`), { timeout: 15_000 });
    const sw = await swTarget.worker();
    if (!sw) throw new Error('the capture extension did not start');
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    // The capture document is made now, not when the capture starts: one step less after Start.
    await Promise.all([fitViewport(page, o.width, o.height), sw.evaluate(() => (globalThis as unknown as { prepare(): Promise<void> }).prepare())]);
    const tabId = (await sw.evaluate(() => (globalThis as unknown as { pageTabId(): Promise<number> }).pageTabId())) as number;
    const kill = () => {
      const proc = browser?.process();
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      void egress.close();
    };
    const fit = (width: number, height: number) => fitViewport(page, width, height);
    return { id, marker, scale, browser, page, sw, tabId, egress, cgroup, close, kill, fit };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Resizes the window until the page's viewport is exactly width×height CSS pixels. Reads the viewport
 * through CDP (no page script, so a navigation cannot break it) and waits for each resize to land
 * before correcting again: the browser's own UI height varies, and resizes are slow under load.
 */
async function fitViewport(page: Page, width: number, height: number): Promise<void> {
  const cdp = await page.createCDPSession();
  const viewport = async () => {
    const m = (await cdp.send('Page.getLayoutMetrics')) as { cssLayoutViewport: { clientWidth: number; clientHeight: number } };
    return { w: m.cssLayoutViewport.clientWidth, h: m.cssLayoutViewport.clientHeight };
  };
  try {
    const { windowId } = (await cdp.send('Browser.getWindowForTarget')) as { windowId: number };
    let seen = { w: 0, h: 0 };
    for (let i = 0; i < 12; i++) {
      seen = await viewport();
      if (seen.w === width && seen.h === height) {
        // Confirm it holds: a resize from launch may still be on its way.
        await new Promise((r) => setTimeout(r, 100));
        const again = await viewport();
        if (again.w === width && again.h === height) return;
        continue;
      }
      const { bounds } = (await cdp.send('Browser.getWindowBounds', { windowId })) as { bounds: { width: number; height: number } };
      await cdp.send('Browser.setWindowBounds', {
        windowId,
        bounds: { width: bounds.width + width - seen.w, height: bounds.height + height - seen.h },
      });
      for (let waited = 0; waited < 2000; waited += 25) {
        await new Promise((r) => setTimeout(r, 25));
        const now = await viewport();
        if (now.w !== seen.w || now.h !== seen.h) break;
      }
    }
    throw new Error(`could not size the page to ${width}×${height} (it stays ${seen.w}×${seen.h})`);
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
