// Stop → finished against recording length (BENCH_LENGTHS, seconds, default 10,60,180,600), MP4 and
// HLS recorded side by side and stopped 15 s apart. Targets: ≤ 2 s at every length, and the longest
// over the 60 s one ≤ 1.3 (both measured in the same run).
import { readFileSync } from 'node:fs';
import { startPageServer } from '../test/helpers/pages.js';
import { type RunningService, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { lineChart } from './chart.js';
import { poll } from './poll.js';
import type { BenchReport } from './report.js';

const MUXERS = ['mp4', 'hls'] as const;

/** Records MP4 and HLS for `seconds`; Stop → finished of each, and the recorder's account of it. */
async function pair(svc: RunningService, url: string, seconds: number) {
  const ids: Record<string, string> = {};
  for (const muxer of MUXERS) {
    ids[muxer] = (await svc.api('Start', { RecordURL: url, MaxDurationLimit: seconds + 600, Output: { Video: { Muxer: muxer } } })).TaskID as string;
  }
  await Promise.all(Object.values(ids).map((id) => poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording')));
  await sleep(seconds * 1000);
  const row: Record<string, unknown> = { seconds };
  for (const muxer of MUXERS) {
    const id = ids[muxer]!;
    const t0 = performance.now();
    await svc.api('Stop', { TaskID: id });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished', 600_000);
    row[`${muxer}Ms`] = Math.round(performance.now() - t0);
    const task = await svc.api('Describe', { TaskID: id });
    if (task.Result.ErrorCode) throw new Error(`${muxer}: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
    row[`${muxer}FileS`] = task.Result.Videos[0].FileDuration;
    const line = readFileSync(svc.logFile, 'utf8').split('\n').find((l) => l.includes(id) && l.includes('"stopMs"'));
    row[`${muxer}Phases`] = line ? JSON.stringify(JSON.parse(line).stopMs) : null;
    // The other recording goes on meanwhile; let this one's clean-up (removing its intermediate
    // file, the disk writing back its last data) finish before measuring the next Stop.
    await sleep(15_000);
  }
  return row;
}

export async function finish(): Promise<BenchReport> {
  const lengths = (process.env.BENCH_LENGTHS ?? '10,60,180,600').split(',').map(Number);
  const pages = await startPageServer();
  const svc = await startService({ RECORDER_SLOTS: '2', LOG_LEVEL: 'info' });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const seconds of lengths) rows.push(await pair(svc, pages.url('counter.html'), seconds));
  } finally {
    await svc.stop();
    await pages.close();
  }
  const at = (s: number, m: string) => rows.find((r) => r.seconds === s)?.[`${m}Ms`] as number | undefined;
  const longest = Math.max(...lengths);
  const figures: BenchReport['figures'] = {};
  for (const m of MUXERS) {
    figures[`${m}MaxMs`] = Math.max(...rows.map((r) => r[`${m}Ms`] as number));
    const base = at(60, m);
    figures[`${m}Ratio${longest}sTo60s`] = base ? +(at(longest, m)! / base).toFixed(2) : null;
  }
  const chart = lineChart({
    title: 'Stop → finished against recording length',
    x: { label: 'recording length (s, log scale)', values: lengths, log: true },
    y: {
      label: 'Stop → finished (ms)',
      min: 0,
      series: MUXERS.map((m) => ({ name: m.toUpperCase(), points: rows.map((r) => [r.seconds as number, r[`${m}Ms`] as number] as [number, number]) })),
    },
  });
  return {
    name: 'finish',
    rows,
    figures,
    targets: { mp4MaxMs: '<= 2000', hlsMaxMs: '<= 2000', ratio: `<= 1.3 (${longest} s over 60 s)` },
    charts: [{ name: 'stop-to-finished', svg: chart }],
  };
}
