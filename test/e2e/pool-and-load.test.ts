// The warm browser pool, admission by measured load, and the low frame rate warning, through the API.
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { findMarked } from '../../lib/child-process.js';
import { processStat } from '../../lib/process-stats.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { browserOf, processesOfTask, type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let pages: PageServer;

before(async () => {
  pages = await startPageServer();
});
after(async () => {
  await pages?.close();
});

/** How many warm browsers the service's pool has made ready so far. */
const warmed = (svc: RunningService) =>
  readFileSync(svc.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"a warm browser is ready"')).length;

/** Chromium browser (main) processes a service is running, idle or recording. */
function browsers(svc: RunningService): number[] {
  return findMarked({ ...svc.runMarker }).filter((pid) => {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return /^\S*chromium\s/.test(cmd) && !cmd.includes('--type=');
    } catch {
      return false;
    }
  });
}

async function record(svc: RunningService, url: string, seconds: number): Promise<string> {
  const { TaskID: id } = await svc.api('Start', { RecordURL: url });
  await svc.waitForStatus(id, 'recording', 30_000);
  await sleep(seconds * 1000);
  await svc.api('Stop', { TaskID: id });
  const task = await svc.waitForStatus(id, 'finished', 60_000);
  assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
  return id as string;
}

describe('warm browser pool (BROWSER_POOL=1, the default)', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService();
  });
  after(async () => {
    await svc?.stop();
  });

  it('keeps a browser ready; each task gets its own, closed after it, and nothing passes between tasks', async () => {
    await waitFor(() => warmed(svc) === 1, { timeoutMs: 30_000, what: 'a warm browser before any Start' });
    assert.equal(browsers(svc).length, 1, 'one browser, waiting');

    const first = await record(svc, pages.url('state.html', { id: 'first' }), 2);
    await waitFor(() => warmed(svc) === 2, { timeoutMs: 30_000, what: 'the pool refilled after the first task' });
    const second = await record(svc, pages.url('state.html', { id: 'second' }), 2);

    const b1 = browserOf(svc.logFile, first);
    const b2 = browserOf(svc.logFile, second);
    assert.ok(b1?.warm, 'the first task took the warm browser');
    assert.ok(b2?.warm, 'the second task took the browser made ready after the first one started');
    assert.notEqual(b1!.id, b2!.id, 'a browser serves one task only');

    assert.equal(pages.marks.get('first'), 0, 'the first page found a fresh browser');
    assert.equal(pages.marks.get('second'), 0, 'no localStorage, cookie or IndexedDB of the first task reached the second');

    await waitFor(() => processesOfTask(svc.logFile, first).length === 0 && processesOfTask(svc.logFile, second).length === 0, {
      timeoutMs: 5000,
      what: 'the used browsers are gone',
    });
    await waitFor(() => warmed(svc) === 3 && browsers(svc).length === 1, {
      timeoutMs: 30_000,
      what: () => `the pool refilled to one (browsers: ${browsers(svc).join(', ')})`,
    });
  });

  it('a pooled browser that dies while waiting is replaced', async () => {
    assert.equal(browsers(svc).length, 1);
    const [pid] = browsers(svc);
    const before = warmed(svc);
    process.kill(pid!, 'SIGKILL');
    await waitFor(() => warmed(svc) === before + 1, { timeoutMs: 30_000, what: 'a new warm browser' });
    assert.deepEqual(browsers(svc).length, 1);
    assert.notEqual(browsers(svc)[0], pid);
    const id = await record(svc, pages.url('state.html', { id: 'after-death' }), 1);
    assert.ok(browserOf(svc.logFile, id)?.warm);
  });
});

describe('admission by measured load', () => {
  it('a job waits in the stream while the machine lacks the headroom for it, and starts once there is room', async () => {
    // Calibrated so that one running recording leaves too little: the second must wait, not degrade the first.
    const svc = await startService({ RECORDER_SLOTS: '3', ADMISSION_CPU_CORES: String(availableParallelism()), BROWSER_POOL: '0' });
    try {
      const { TaskID: a } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
      await svc.waitForStatus(a, 'recording', 30_000);
      const { TaskID: b } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
      await sleep(6000);
      const waiting = await svc.api('Describe', { TaskID: b });
      assert.equal(waiting.Status, 'normal', 'the second job was not taken while the first records');

      await svc.api('Stop', { TaskID: a });
      await svc.waitForStatus(a, 'finished', 60_000);
      await svc.waitForStatus(b, 'recording', 30_000);
      await svc.api('Stop', { TaskID: b });
      const done = await svc.waitForStatus(b, 'finished', 60_000);
      assert.equal(done.Result.ErrorCode, undefined);
      assert.equal(done.Result.Videos.length, 1);
    } finally {
      await svc.stop();
    }
  });
});

describe('recording cost learnt on this machine (ADMISSION_CPU_CORES=auto)', () => {
  /** The recorder's measurements so far, from its log. */
  const measurements = (svc: RunningService) =>
    readFileSync(svc.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"recording cost measured"'))
      .map((l) => JSON.parse(l) as { measuredCores: number; recordingCores: number });

  it('measures a recording by its own processes, as an outside meter of the same processes does', async () => {
    const svc = await startService({ BROWSER_POOL: '0', LOG_LEVEL: 'debug' });
    try {
      const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
      await svc.waitForStatus(id, 'recording', 30_000);
      await waitFor(async () => measurements(svc).length > 0, { timeoutMs: 20_000, intervalMs: 500, what: 'a first measurement' });
      const pids = processesOfTask(svc.logFile, id);
      const cpu = () => pids.reduce((sum, pid) => sum + (processStat(pid)?.cpuSeconds ?? 0), 0);
      const seen = measurements(svc).length;
      const t0 = performance.now();
      const c0 = cpu();
      await sleep(15_000);
      const outside = (cpu() - c0) / ((performance.now() - t0) / 1000);
      const inside = measurements(svc)
        .slice(seen)
        .map((m) => m.measuredCores);
      assert.ok(inside.length >= 2, `measured every few seconds while recording (${inside.length} in 15 s)`);
      const mean = inside.reduce((a, b) => a + b, 0) / inside.length;
      assert.ok(outside > 0.2, `the recording uses CPU (${outside.toFixed(2)} cores from outside)`);
      assert.ok(Math.abs(mean - outside) / outside < 0.35, `inside ${mean.toFixed(2)} vs outside ${outside.toFixed(2)} cores`);
      const estimate = measurements(svc).at(-1)!.recordingCores;
      assert.ok(estimate > 0.2 && estimate < availableParallelism(), `the estimate admission uses is a real figure (${estimate})`);
      await svc.api('Stop', { TaskID: id });
      await svc.waitForStatus(id, 'finished', 60_000);
    } finally {
      await svc.stop();
    }
  });
});

describe('low frame rate warning', () => {
  it('a recording under FPS_WARNING_BELOW for 10 s says so in Describe while it records', async () => {
    // 30 fps is captured; a threshold above it makes every window "low".
    const svc = await startService({ FPS_WARNING_BELOW: '45' });
    try {
      const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html') });
      await svc.waitForStatus(id, 'recording', 30_000);
      let warnings: { Time: number; Message: string }[] = [];
      await waitFor(
        async () => {
          warnings = (await svc.api('Describe', { TaskID: id })).Warnings ?? [];
          return warnings.length > 0;
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'a warning in Describe' },
      );
      assert.equal(warnings.length, 1, 'one warning for one low stretch');
      const m = /captured ([\d.]+) frames per second over its last (\d+) s \(under 45, FPS_WARNING_BELOW\)/.exec(warnings[0]!.Message);
      assert.ok(m, warnings[0]!.Message);
      assert.ok(Number(m[1]) > 20 && Number(m[1]) < 45, `the measured rate is the capture's (${m[1]})`);
      assert.ok(Number(m[2]) >= 10);
      assert.ok(Math.abs(warnings[0]!.Time - Date.now() / 1000) < 30);
      await svc.api('Stop', { TaskID: id });
      const done = await svc.waitForStatus(id, 'finished', 60_000);
      assert.equal(done.Result.ErrorCode, undefined, 'a warning does not fail the task');
      assert.equal(done.Warnings.length, 1);
    } finally {
      await svc.stop();
    }
  });
});
