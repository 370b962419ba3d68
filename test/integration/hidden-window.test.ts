// A recording minimizes its window once the capture holds the page (so the window is not drawn for
// nobody). What must not change for the page or the file: the page keeps focus and visibility and
// animates at full rate, and the capture goes on at 30 fps with the page's own pixels.
import assert from 'node:assert/strict';
import { chmodSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { launchBrowser } from '../../recorder/capture/browser.js';
import { CaptureServer } from '../../recorder/capture/capture-server.js';
import { hideWindow } from '../../recorder/capture/hide-window.js';
import { TabCapture } from '../../recorder/capture/tab-capture.js';
import { analyse } from '../helpers/media.js';
import { startPageServer } from '../helpers/pages.js';
import { scratchDir } from '../helpers/scratch.js';
import { sleep } from '../helpers/wait.js';
import { parseAllowlist } from '../../protocol/url-policy.js';
import { resolveBrowserIdentity } from '../../recorder/capture/browser-sandbox.js';

const dir = scratchDir('hide');
// The browser's own user passes through to its profile here.
chmodSync(dir, 0o711);

describe('the minimized window of a recording', () => {
  it('keeps the page focused, visible and animating, and the capture at 30 fps', async () => {
    const pages = await startPageServer();
    const server = new CaptureServer();
    await server.start();
    const rb = await launchBrowser({
      chromiumPath: 'chromium',
      extraFlags: [],
      width: 1280,
      height: 720,
      tmpDir: dir,
      marker: { WEBRECORD_TEST: 'hidden-window' },
      identity: resolveBrowserIdentity({ user: 'webrecord-browser', noSandbox: false }),
      egress: { policy: parseAllowlist('127.0.0.1'), exempt: () => [server.hostPort] },
      cgroups: null,
    });
    try {
      await rb.page.goto(pages.url('counter.html'));
      const file = join(dir, 'capture.mkv');
      const out = createWriteStream(file);
      const sink = { write: (c: Buffer) => new Promise<void>((r, j) => out.write(c, (e) => (e ? j(e) : r()))), close: () => new Promise<void>((r) => out.end(r)) };
      const capture = await TabCapture.start(rb.sw, server, sink, { tabId: rb.tabId, width: 1280, height: 720, fps: 30, pictureSampleMs: 0 });
      await capture.firstFrame;
      // Page script as strings: the test runner's transpiler would add helpers the page lacks.
      await rb.page.evaluate(
        "window.__seen = []; for (const e of ['blur', 'resize']) addEventListener(e, () => __seen.push(e)); document.addEventListener('visibilitychange', () => __seen.push(document.visibilityState))",
      );
      await hideWindow(rb.page);
      const cdp = await rb.page.createCDPSession();
      const { windowId } = await cdp.send('Browser.getWindowForTarget');
      const { bounds } = await cdp.send('Browser.getWindowBounds', { windowId });
      await cdp.detach();
      assert.equal(bounds.windowState, 'minimized');

      const framesBefore = (await rb.page.evaluate('window.__frames()')) as number;
      await sleep(4000);
      const page = (await rb.page.evaluate(
        'JSON.stringify({ seen: __seen, focus: document.hasFocus(), visibility: document.visibilityState, size: [innerWidth, innerHeight], frames: window.__frames() })',
      )) as string;
      const p = JSON.parse(page) as { seen: string[]; focus: boolean; visibility: string; size: number[]; frames: number };
      assert.deepEqual(p.seen, [], `the page saw ${p.seen.join(', ')}`);
      assert.equal(p.focus, true);
      assert.equal(p.visibility, 'visible');
      assert.deepEqual(p.size, [1280, 720]);
      // The page's own animation goes on at the display rate (60/s here), not a background rate.
      assert.ok((p.frames - framesBefore) / 4 > 45, `the page drew ${(p.frames - framesBefore) / 4} frames per second`);

      await capture.stop();
      await sink.close();
      const a = analyse(file);
      assert.equal(a.info.video?.width, 1280);
      assert.equal(a.info.video?.height, 720);
      // Captured frames carry the page's counter and keep coming at 30 a second after the window went away.
      // The 4 s after the window went away, less the last fraction of a second a loaded machine may not
      // have flushed at Stop (the CI run saw 3.996 s).
      const span = a.span;
      assert.ok(span > 3.5, `the capture spans ${span} s`);
      assert.ok(a.frames / span > 28.5, `${a.frames} frames in ${span.toFixed(2)} s`);
      const distinct = new Set(a.counters).size;
      assert.ok(distinct / span > 28.5, `${distinct} distinct counter values in ${span.toFixed(2)} s`);
      assert.ok(a.maxGap < 0.2, `a gap of ${a.maxGap} s between frames`);
    } finally {
      await rb.close();
      await server.stop();
      await pages.close();
    }
  });
});
