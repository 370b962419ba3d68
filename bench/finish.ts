// `npm run bench:finish`: Stop → finished for 1-minute and 10-minute recordings, MP4 and HLS.
// Targets: ≤ 2 s each, and 10-min / 1-min ≤ 1.3. (BENCH_SHORT / BENCH_LONG change the lengths, in s.)
import { readFileSync } from 'node:fs';
import { startPageServer } from '../test/helpers/pages.js';
import { type RunningService, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';

const SHORT = Number(process.env.BENCH_SHORT ?? 60);
const LONG = Number(process.env.BENCH_LONG ?? 600);

async function poll(check: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

/** Records MP4 and HLS side by side for `seconds`; stops them 5 s apart; Stop → finished of each. */
async function pair(svc: RunningService, url: string, seconds: number) {
  const out: Record<string, number> = {};
  const ids: Record<string, string> = {};
  for (const muxer of ['mp4', 'hls']) {
    ids[muxer] = (await svc.api('Start', { RecordURL: url, Output: { Video: { Muxer: muxer } } })).TaskID as string;
  }
  await Promise.all(Object.values(ids).map((id) => poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording')));
  await sleep(seconds * 1000);
  for (const muxer of ['mp4', 'hls']) {
    const id = ids[muxer]!;
    const t0 = performance.now();
    await svc.api('Stop', { TaskID: id });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished');
    out[muxer] = Math.round(performance.now() - t0);
    const task = await svc.api('Describe', { TaskID: id });
    if (task.Result.ErrorCode) throw new Error(`${muxer}: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
    out[`${muxer}Duration`] = task.Result.Videos[0].FileDuration;
    // The recorder's own account of the Stop (capture close, ffmpeg tail, publish), from its log.
    const line = readFileSync(svc.logFile, 'utf8').split('\n').find((l) => l.includes(id) && l.includes('"stopMs"'));
    phases[`${muxer}@${seconds}s`] = line ? JSON.parse(line).stopMs : null;
    await sleep(5000);
  }
  return out;
}

const phases: Record<string, unknown> = {};
const pages = await startPageServer();
const svc = await startService({ RECORDER_SLOTS: '2', LOG_LEVEL: 'info' });
try {
  const short = await pair(svc, pages.url('counter.html'), SHORT);
  const long = await pair(svc, pages.url('counter.html'), LONG);
  const rows = ['mp4', 'hls'].map((m) => ({
    output: m,
    [`stop→finished ${SHORT}s (ms)`]: short[m],
    [`stop→finished ${LONG}s (ms)`]: long[m],
    ratio: +(long[m]! / short[m]!).toFixed(2),
    [`file ${LONG}s (s)`]: long[`${m}Duration`],
  }));
  console.table(rows);
  console.log('recorder-side phases (ms):', JSON.stringify(phases));
  console.log(JSON.stringify({ bench: 'finish', short: SHORT, long: LONG, results: { short, long }, phases, targets: { stopToFinishedMs: '<= 2000', ratio: '<= 1.3' } }));
} finally {
  await svc.stop();
  await pages.close();
}
