// Soak: one long recording (BENCH_SOAK_MINUTES, default 30) of the counter page. The memory of all
// its processes (its Chromium and ffmpeg, the service, redis-server) is sampled each minute; the
// growth per minute after the first two is the slope of a least-squares line. The file's distinct fps
// and A/V offset are measured over its first and last minute (drift: last − first).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, avOffsetMs } from '../test/helpers/media.js';
import { startPageServer } from '../test/helpers/pages.js';
import { processesOf, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { pssBytes } from '../lib/process-stats.js';
import { memoryOf } from './process-meter.js';
import type { BenchReport } from './report.js';
import { poll } from './poll.js';

const MB = 1024 * 1024;

function slopePerMinute(points: { minute: number; mb: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.minute, 0) / n;
  const my = points.reduce((s, p) => s + p.mb, 0) / n;
  const num = points.reduce((s, p) => s + (p.minute - mx) * (p.mb - my), 0);
  const den = points.reduce((s, p) => s + (p.minute - mx) ** 2, 0);
  return num / den;
}

/** Memory by kind of process (Chromium's by --type), MB: where a growth is. */
function byKind(pids: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of pids) {
    let kind: string;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      kind = /--utility-sub-type=([\w.]+)/.exec(cmd)?.[1] ?? /--type=([\w-]+)/.exec(cmd)?.[1] ?? cmd.split(' ')[0]!.split('/').pop()!;
    } catch {
      continue;
    }
    out[kind] = +((out[kind] ?? 0) + pssBytes(pid) / MB).toFixed(1);
  }
  return out;
}

function minuteOf(file: string, out: string, from: 'start' | 'end'): { distinctFps: number; avOffsetMs: number | null } {
  const at = from === 'start' ? ['-ss', '0'] : ['-sseof', '-60'];
  execFileSync('ffmpeg', ['-v', 'error', ...at, '-i', file, '-t', '60', '-c', 'copy', '-y', out]);
  const a = analyse(out);
  return { distinctFps: +a.distinctPerSecond.toFixed(2), avOffsetMs: avOffsetMs(out)?.median ?? null };
}

export async function soak(): Promise<BenchReport> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
  const pages = await startPageServer();
  const svc = await startService({ LOG_LEVEL: 'warn', BROWSER_POOL: '0' });
  try {
    const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html'), Width: 1280, Height: 720, MaxDurationLimit: minutes * 60 + 600 });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
    const samples: { minute: number; mb: number; byProcess: string }[] = [];
    for (let m = 0; m <= minutes; m++) {
      if (m > 0) await sleep(60_000);
      const pids = [svc.child.pid!, ...processesOf(svc.runMarker)];
      const mb = memoryOf(pids) / MB;
      samples.push({ minute: m, mb: +mb.toFixed(1), byProcess: JSON.stringify(byKind(pids)) });
      console.log(`soak: minute ${m}: ${mb.toFixed(1)} MB`);
    }
    await svc.api('Stop', { TaskID: id });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished', 300_000);
    const task = await svc.api('Describe', { TaskID: id });
    if (task.Result.ErrorCode) throw new Error(`soak recording failed: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
    const file = join(svc.dataDir, `${id}.mp4`);
    writeFileSync(file, Buffer.from(await (await fetch(task.Result.Videos[0].FileURL)).arrayBuffer()));
    const first = minuteOf(file, join(svc.dataDir, 'first.mp4'), 'start');
    const last = minuteOf(file, join(svc.dataDir, 'last.mp4'), 'end');
    const growth = slopePerMinute(samples.filter((s) => s.minute >= 2));
    return {
      name: 'soak',
      rows: samples,
      figures: {
        minutes,
        fileDurationS: task.Result.Videos[0].FileDuration,
        memoryAtMinute2Mb: samples[2]?.mb ?? null,
        memoryAtEndMb: samples.at(-1)!.mb,
        memoryGrowthMbPerMinute: +growth.toFixed(3),
        distinctFpsFirstMinute: first.distinctFps,
        distinctFpsLastMinute: last.distinctFps,
        avOffsetFirstMinuteMs: first.avOffsetMs,
        avOffsetLastMinuteMs: last.avOffsetMs,
        avDriftMs: first.avOffsetMs !== null && last.avOffsetMs !== null ? last.avOffsetMs - first.avOffsetMs : null,
      },
      targets: { memoryGrowthMbPerMinute: '< 1 (after minute 2)', distinctFpsLastMinute: '>= 29.5', avOffsetLastMinuteMs: '|x| <= 50' },
    };
  } finally {
    await svc.stop();
    await pages.close();
  }
}
