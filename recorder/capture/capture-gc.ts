// Every chunk MediaRecorder hands the capture document is a Blob, and a Blob's bytes are held by the
// browser process until the document's garbage collector drops the Blob object. The capture document
// makes almost no garbage of its own, so its collector seldom runs and the browser process grows by
// megabytes a minute. Asking for a collection now and then (over CDP: no flag exposes gc() to the
// recorded page) keeps that memory flat.
import type { Browser, CDPSession } from 'puppeteer-core';

const EVERY_MS = 15_000;

export async function collectCaptureGarbage(browser: Browser, onError: (err: unknown) => void): Promise<() => void> {
  const target = await browser.waitForTarget((t) => t.url().endsWith('/offscreen.html'), { timeout: 5000 });
  const cdp: CDPSession = await target.createCDPSession();
  const timer = setInterval(() => {
    cdp.send('HeapProfiler.collectGarbage').catch(onError);
  }, EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    void cdp.detach().catch(() => undefined);
  };
}
