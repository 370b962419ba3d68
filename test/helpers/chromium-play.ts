// Plays a published video in Chromium's own <video> (MP4, or HLS natively, AES-128 included): the
// duration it reports, that it plays, and that it seeks.
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

// The <video> check runs in the browser.
declare const document: { createElement(tag: 'video'): any; body: { append(e: unknown): void } }; // eslint-disable-line @typescript-eslint/no-explicit-any

export async function playsInChromium(url: string, duration: number, opts: { tolerance?: number; width?: number; height?: number } = {}): Promise<void> {
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
  try {
    const page = await browser.newPage();
    const r = await page.evaluate(async (src: string) => {
      const v = document.createElement('video');
      // CORS mode: Chromium's HLS player uses an AES key from another origin (AuthUrl) only so.
      v.crossOrigin = 'anonymous';
      v.muted = true;
      v.src = src;
      document.body.append(v);
      await new Promise((ok, fail) => {
        v.onloadedmetadata = ok;
        v.onerror = () => fail(new Error(`video error ${v.error?.code}: ${v.error?.message}`));
      });
      await v.play();
      await new Promise((r) => setTimeout(r, 1200));
      const played = v.currentTime;
      v.currentTime = v.duration - 1;
      await new Promise((r) => (v.onseeked = r));
      return { duration: v.duration, played, seekedTo: v.currentTime, w: v.videoWidth, h: v.videoHeight };
    }, url);
    const tolerance = opts.tolerance ?? 0.1;
    assert.ok(Math.abs(r.duration - duration) < tolerance, `<video> duration ${r.duration}, file ${duration}`);
    assert.ok(r.played > 0.5, `it plays (${r.played} s after 1.2 s)`);
    assert.ok(Math.abs(r.seekedTo - (r.duration - 1)) < 0.2, 'it seeks');
    assert.deepEqual([r.w, r.h], [opts.width ?? 1280, opts.height ?? 720]);
  } finally {
    await browser.close();
  }
}
