// Stop → finished against recording length (BENCH_LENGTHS, seconds, default 10,60,180,600), for MP4
// and HLS. Each recording runs alone, so what is measured is the finishing itself, not a second
// recording competing for the two cores; the short lengths are repeated (BENCH_RUNS, default 3,
// for lengths ≤ 60 s — a 10-minute repeat would cost another 20 minutes) and their median taken.
// Targets: ≤ 2 s at every length, and the longest over the 60 s one ≤ 1.3 (same run).
import { readFileSync } from 'node:fs';
import { startPageServer } from '../test/helpers/pages.js';
import { type RunningService, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { lineChart } from './chart.js';
import { poll } from './poll.js';
import { type BenchReport, median } from './report.js';

type Muxer = 'mp4' | 'hls';

/** Records `seconds` of `muxer` alone; Stop → finished, and the recorder's account of its phases. */
async function once(svc: RunningService, url: string, muxer: Muxer, seconds: number) {
  const id = (await svc.api('Start', { RecordURL: url, MaxDurationLimit: seconds + 600, Output: { Video: { Muxer: muxer } } })).TaskID as string;
  await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
  await sleep(seconds * 1000);
  const t0 = performance.now();
  await svc.api('Stop', { TaskID: id });
  await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished', 600_000);
  const ms = Math.round(performance.now() - t0);
  const task = await svc.api('Describe', { TaskID: id });
  if (task.Result.ErrorCode) throw new Error(`${muxer}: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
  const line = readFileSync(svc.logFile, 'utf8').split('\n').find((l) => l.includes(id) && l.includes('"stopMs"'));
  // Let its clean-up (removing the intermediate file, the disk writing back) end before the next.
  await sleep(10_000);
  return { ms, fileS: task.Result.Videos[0].FileDuration as number, phases: line ? (JSON.parse(line).stopMs as Record<string, number>) : null };
}

export async function finish(): Promise<BenchReport> {
  const lengths = (process.env.BENCH_LENGTHS ?? '10,60,180,600').split(',').map(Number);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const longRuns = Number(process.env.BENCH_LONG_RUNS ?? 1);
  const MUXERS = (process.env.BENCH_MUXERS ?? 'mp4,hls').split(',') as Muxer[];
  const pages = await startPageServer();
  const svc = await startService({ LOG_LEVEL: 'info' });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const seconds of lengths) {
      const row: Record<string, unknown> = { seconds };
      for (const muxer of MUXERS) {
        const samples = [];
        for (let i = 0; i < (seconds <= 60 ? runs : longRuns); i++) {
          samples.push(await once(svc, pages.url('counter.html'), muxer, seconds));
          console.error(`finish: ${muxer} ${seconds} s → ${samples.at(-1)!.ms} ms ${JSON.stringify(samples.at(-1)!.phases)}`);
        }
        row[`${muxer}Ms`] = median(samples.map((s) => s.ms));
        row[`${muxer}Samples`] = samples.map((s) => s.ms).join('/');
        row[`${muxer}FileS`] = samples[0]!.fileS;
        row[`${muxer}Phases`] = JSON.stringify(samples.map((s) => s.phases));
      }
      rows.push(row);
    }
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
    title: 'Stop → finished against recording length (each recording alone)',
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
