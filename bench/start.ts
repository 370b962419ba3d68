// Start → first recorded frame (the task turning `recording`, polled every 20 ms), with every browser
// launched on Start (BROWSER_POOL=0, cold) and with one kept warm (BROWSER_POOL=1, the default).
// BENCH_RUNS Starts each (default 7), one at a time, 5 s apart so the pool refills between them.
import { startPageServer } from '../test/helpers/pages.js';
import { startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { poll } from './poll.js';
import { type BenchReport, median, percentile } from './report.js';

async function series(pool: number, runs: number, url: string): Promise<number[]> {
  const svc = await startService({ BROWSER_POOL: String(pool), LOG_LEVEL: 'warn' });
  const out: number[] = [];
  try {
    await sleep(5000);
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const { TaskID: id } = await svc.api('Start', { RecordURL: url, Width: 1280, Height: 720 });
      await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
      out.push(Math.round(performance.now() - t0));
      await sleep(1000);
      await svc.api('Stop', { TaskID: id });
      await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished');
      await sleep(5000);
    }
  } finally {
    await svc.stop();
  }
  return out;
}

export async function start(): Promise<BenchReport> {
  const runs = Number(process.env.BENCH_RUNS ?? 7);
  const pages = await startPageServer();
  try {
    const cold = await series(0, runs, pages.url('counter.html'));
    const warm = await series(1, runs, pages.url('counter.html'));
    return {
      name: 'start',
      rows: [
        { browser: 'cold (BROWSER_POOL=0)', runsMs: cold.join(' '), p50Ms: median(cold), maxMs: Math.max(...cold) },
        { browser: 'warm (BROWSER_POOL=1)', runsMs: warm.join(' '), p50Ms: median(warm), maxMs: Math.max(...warm) },
      ],
      figures: { coldP50Ms: median(cold), warmP50Ms: median(warm), warmP90Ms: percentile(warm, 90) },
      targets: { warmP50Ms: '<= 1000' },
    };
  } finally {
    await pages.close();
  }
}
