// The operator console in a real Chromium against the whole service: a recording started from its
// form (HLS), seen recording in its list, watched live in its player (the live playlist plays and
// time advances), stopped from its button, seen finished, and its video played to the end. Then with
// API keys: the console asks for a key, a wrong secret shows the AuthFailure, a key without ListTasks
// is refused by name, and with the right key every call is signed and a recording (MP4) goes through.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep } from '../helpers/wait.js';

// What the checks read in the page.
declare const document: { querySelector(s: string): any }; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: Record<string, unknown>;
declare const sessionStorage: { getItem(k: string): string | null };

let pages: PageServer;
let browser: Browser;
before(async () => {
  pages = await startPageServer();
  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--mute-audio'] });
});
after(async () => {
  await browser?.close();
  await pages?.close();
});

/** Calls to the API the page made, with their headers. */
function apiCalls(page: Page): { url: string; headers: Record<string, string>; body: string }[] {
  const calls: { url: string; headers: Record<string, string>; body: string }[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') calls.push({ url: r.url(), headers: r.headers(), body: r.postData() ?? '' });
  });
  return calls;
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => (e as unknown as { textContent: string }).textContent);
const row = (id: string, status?: string) => `#task-rows tr[data-task="${id}"]${status ? `[data-status="${status}"]` : ''}`;

/** Fills the Start form and submits it; answers the TaskID the console says it started. */
async function startFromForm(page: Page, url: string, muxer: 'hls' | 'mp4'): Promise<string> {
  await page.$eval('#start-url', (e, v) => ((e as unknown as { value: string }).value = v), url);
  await page.$eval('#start-width', (e) => ((e as unknown as { value: string }).value = '640'));
  await page.$eval('#start-height', (e) => ((e as unknown as { value: string }).value = '360'));
  await page.$eval('#start-max', (e) => ((e as unknown as { value: string }).value = '120'));
  await page.select('#start-muxer', muxer);
  await page.click('#start-submit');
  await page.waitForFunction(() => /^Started /.test(document.querySelector('#start-result').textContent), { timeout: 10_000 });
  return (await text(page, '#start-result')).replace(/^Started /, '');
}

/** Stops the task from its row, waits for it to be finished in the list, and plays its video to the end in the console's player. */
async function stopAndPlay(page: Page, svc: RunningService, id: string) {
  // The player is this one element throughout; its end is awaited from now on.
  await page.evaluate(() => {
    const v = document.querySelector('#player');
    window.ended = new Promise((r) => v.addEventListener('ended', () => r(v.duration), { once: true }));
  });
  await page.click(`${row(id)} button[data-act="Stop"]`);
  await page.waitForSelector(row(id, 'finished'), { timeout: 60_000 });
  const task = await svc.client.describe(id);
  assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
  const video = task.Result.Videos[0]!;
  // Describe's times are whole seconds.
  const recordedFor = task.StopTime! - task.StartTime!;
  assert.ok(Math.abs(video.FileDuration - recordedFor) <= 1.5, `the video holds what was recorded (${video.FileDuration} s, recording from ${task.StartTime} to ${task.StopTime})`);
  assert.match(await text(page, `${row(id)} .recorded`), /^0:\d\d$/, 'the row says how long it is');
  await page.waitForSelector(`#player[data-task="${id}"][data-mode="file"]`, { timeout: 10_000 });
  assert.equal(await page.$eval('#player', (e) => (e as unknown as { src: string }).src), video.FileURL, 'the player plays the published file');
  const duration = await page
    .evaluate(() => Promise.race([window.ended, new Promise((_, no) => setTimeout(() => no(new Error('no ended event within 60 s')), 60_000))]))
    .catch(async (err: Error) => {
      const state = await page.$eval('#player', (v) => {
        const e = v as unknown as { currentTime: number; duration: number; readyState: number; buffered: { length: number; start(i: number): number; end(i: number): number } };
        return { at: e.currentTime, duration: e.duration, readyState: e.readyState, buffered: Array.from({ length: e.buffered.length }, (_, i) => [e.buffered.start(i), e.buffered.end(i)]) };
      });
      throw new Error(`${err.message}: the player ${JSON.stringify(state)}`);
    });
  assert.ok(Math.abs((duration as number) - video.FileDuration) < 0.5, `played to its end: the player's duration ${duration} s, the file's ${video.FileDuration} s`);
}

describe('the console, in open mode', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ RECORDER_SLOTS: '1', HLS_SEGMENT_SECONDS: '2' });
  });
  after(() => svc?.stop());

  it('starts an HLS recording from its form, lists it recording, plays it live, stops it from its button, and plays the finished video to its end', async () => {
    const page = await browser.newPage();
    const failures: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') failures.push(m.text());
    });
    page.on('pageerror', (e) => failures.push(String(e)));
    await page.goto(`${svc.url}/console`);
    await page.waitForSelector('#main:not([hidden])', { timeout: 10_000 });
    assert.match(await text(page, '#mode'), /open mode/);
    await page.waitForSelector('#recorder-rows tr[data-recorder]', { timeout: 10_000 });
    assert.match(await text(page, '#recorder-rows .slots'), /^0 of 1 \(1 free\)$/);
    assert.match(await text(page, '#recorder-rows .load'), /cores busy/);

    const id = await startFromForm(page, pages.url('counter.html'), 'hls');
    await page.waitForSelector(row(id, 'recording'), { timeout: 30_000 });
    assert.match(await text(page, '#recorder-rows .slots'), /^1 of 1 \(0 free\)$|^0 of 1/, 'the recorder shows the recording once it beats');

    // The live view: the playlist the task names while recording, playing, its time advancing.
    await page.waitForSelector(`#player[data-task="${id}"][data-mode="live"]`, { timeout: 30_000 });
    const live = await svc.client.describe(id);
    assert.equal(live.Status, 'recording');
    assert.equal(await page.$eval('#player', (e) => (e as unknown as { src: string }).src), live.Result.Videos[0]?.FileURL);
    await page.waitForFunction(() => document.querySelector('#player').currentTime > 0.5, { timeout: 30_000 });
    const t1 = (await page.$eval('#player', (e) => (e as unknown as { currentTime: number }).currentTime)) as number;
    await sleep(3000);
    const t2 = (await page.$eval('#player', (e) => (e as unknown as { currentTime: number }).currentTime)) as number;
    assert.ok(t2 - t1 > 2, `the live view plays: ${t1.toFixed(2)} s → ${t2.toFixed(2)} s over 3 s`);
    assert.match(await text(page, `${row(id)} .recorded`), /^0:\d\d$/, 'the recorded time so far');

    await stopAndPlay(page, svc, id);
    assert.deepEqual(failures, [], 'no error in the page');
    await page.close();
  });
});

describe('the console, with API keys', () => {
  const OPS = { key: 'ops', secret: 'ops-secret-0123456789' };
  let svc: RunningService;
  before(async () => {
    svc = await startService({ RECORDER_SLOTS: '1', API_KEYS: `${OPS.key}:${OPS.secret},viewer:viewer-secret-0123:Describe` });
  });
  after(() => svc?.stop());

  async function giveKey(page: Page, key: string, secret: string) {
    await page.$eval('#auth-key', (e, v) => ((e as unknown as { value: string }).value = v), key);
    await page.$eval('#auth-secret', (e, v) => ((e as unknown as { value: string }).value = v), secret);
    await page.click('#auth-submit');
  }

  it('asks for a key, shows the AuthFailure of a wrong secret or a key without ListTasks, and with the right key signs every call; a recording (MP4) goes through', async () => {
    const page = await browser.newPage();
    const calls = apiCalls(page);
    await page.goto(`${svc.url}/console`);
    await page.waitForSelector('#auth:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.$eval('#main', (e) => (e as unknown as { hidden: boolean }).hidden), true, 'nothing shown before a key');

    await giveKey(page, OPS.key, 'not-the-secret-at-all');
    await page.waitForFunction(() => /AuthFailure/.test(document.querySelector('#auth-error').textContent), { timeout: 10_000 });
    assert.equal(await text(page, '#auth-error'), 'AuthFailure: signature does not match (check the ApiAppSecret and the string to sign)');

    await giveKey(page, 'viewer', 'viewer-secret-0123');
    await page.waitForFunction(() => /may not call/.test(document.querySelector('#auth-error').textContent), { timeout: 10_000 });
    assert.match(await text(page, '#auth-error'), /^AuthFailure: ApiAppKey "viewer" may not call (ListTasks|DescribeRecorders) \(allowed: Describe\)$/);

    await giveKey(page, OPS.key, OPS.secret);
    await page.waitForSelector('#main:not([hidden])', { timeout: 10_000 });
    assert.equal(await text(page, '#mode'), 'signed as ops');
    await page.waitForSelector('#recorder-rows tr[data-recorder]', { timeout: 10_000 });

    const id = await startFromForm(page, pages.url('counter.html'), 'mp4');
    await page.waitForSelector(row(id, 'recording'), { timeout: 30_000 });
    await sleep(4000);
    assert.match(await text(page, '#player-note'), /Nothing to watch yet/, 'an MP4 is not watched live');
    await stopAndPlay(page, svc, id);

    const signed = calls.filter((c) => c.url === `${svc.url}/`);
    const actions = new Set(signed.map((c) => (JSON.parse(c.body) as { Action: string }).Action));
    for (const action of ['ListTasks', 'DescribeRecorders', 'Start', 'Stop']) assert.ok(actions.has(action), `${action} was called`);
    const withKey = signed.filter((c) => /^hmac id="ops", algorithm="hmac-sha256", headers="x-date source", signature="[A-Za-z0-9+/=]+"$/.test(c.headers.authorization ?? ''));
    assert.ok(withKey.length >= 6, `calls signed with the key: ${withKey.length}`);
    for (const c of withKey) assert.ok(c.headers['content-md5'] && c.headers['x-date'], 'with Content-MD5 and X-Date');
    assert.ok(
      calls.every((c) => !c.url.includes(OPS.secret) && !JSON.stringify(c.headers).includes(OPS.secret) && !c.body.includes(OPS.secret)),
      'the secret is never sent',
    );
    assert.ok(!page.url().includes('secret'), 'nor in the page URL');
    assert.deepEqual(JSON.parse((await page.evaluate(() => sessionStorage.getItem('webrecord.console.credentials'))) ?? 'null'), OPS, "kept in the tab's sessionStorage");
    await page.close();
  });
});
