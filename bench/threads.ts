// Where one recording's CPU goes, thread by thread: one recording of the counter page at 1280×720,
// its processes' threads read from /proc over BENCH_SECONDS (default 15), BENCH_RUNS times (default
// 3), medians. Threads are named by the kind of process (the page's renderer and the capture
// document's are told apart) and the thread's own name, numbers dropped (ThreadPoolForegroundWorker3
// and 4 are one row). This is how the window's needless compositing was found.
import { readdirSync, readFileSync } from 'node:fs';
import { startPageServer } from '../test/helpers/pages.js';
import { processesOfTask, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { poll } from './poll.js';
import { type BenchReport, median } from './report.js';

const TICKS_PER_SECOND = 100;

function processKind(pid: number): string {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
  if (!type) return comm;
  if (type === 'renderer') return cmdline.includes('--extension-process') ? 'renderer (capture document)' : 'renderer (page)';
  if (type === 'utility') return `utility (${/--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1] ?? '?'})`;
  return type;
}

/** CPU seconds so far of every thread of these processes, keyed "process kind / thread name". */
function threadTimes(pids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    try {
      const kind = processKind(pid);
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const key = `${kind} / ${name}`;
        out.set(key, (out.get(key) ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND);
      }
    } catch {
      // The process or thread ended between listing and reading.
    }
  }
  return out;
}

async function once(seconds: number): Promise<Map<string, number>> {
  const pages = await startPageServer();
  const svc = await startService({ BROWSER_POOL: '0', ADMISSION_CPU_CORES: '0', ADMISSION_MEMORY_MB: '0', LOG_LEVEL: 'info' });
  try {
    const id = (await svc.api('Start', { RecordURL: pages.url('counter.html'), Width: 1280, Height: 720 })).TaskID as string;
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
    await sleep(2000); // past the capture's start and the window's minimizing
    const pids = processesOfTask(svc.logFile, id);
    const before = threadTimes(pids);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const after = threadTimes(pids);
    const elapsed = (performance.now() - t0) / 1000;
    await svc.api('Stop', { TaskID: id });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished');
    return new Map([...after].map(([k, v]) => [k, (v - (before.get(k) ?? v)) / elapsed]));
  } finally {
    await svc.stop();
    await pages.close();
  }
}

export async function threads(): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 15);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const samples: Map<string, number>[] = [];
  for (let run = 1; run <= runs; run++) samples.push(await once(seconds));
  const keys = new Set(samples.flatMap((s) => [...s.keys()]));
  const rows = [...keys]
    .map((key) => ({ thread: key, cores: +median(samples.map((s) => s.get(key) ?? 0)).toFixed(3), runs: samples.map((s) => +(s.get(key) ?? 0).toFixed(3)).join(' ') }))
    .filter((r) => r.cores >= 0.002)
    .sort((a, b) => b.cores - a.cores);
  const total = median(samples.map((s) => [...s.values()].reduce((a, b) => a + b, 0)));
  return { name: 'threads', rows, figures: { recordingCores: +total.toFixed(3), ...Object.fromEntries(rows.slice(0, 4).map((r) => [r.thread, r.cores])) } };
}
