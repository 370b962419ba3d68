// Recording at 1280×720@30 on the counter page, with 1, 2 and 3 recordings at once (BENCH_LEVELS),
// each level BENCH_RUNS times (default 3), every run on a fresh service (BROWSER_POOL=0, so that no
// warm browser's launch lands in the measurement). Per recording: CPU core-seconds per recorded second
// over all processes (its Chromium and ffmpeg, and its share of the service and redis-server),
// distinct fps (decoded frame counter), audio/video offset, peak memory (PSS of its processes).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, avOffsetMs } from '../test/helpers/media.js';
import { startPageServer } from '../test/helpers/pages.js';
import { processesOf, processesOfTask, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { lineChart } from './chart.js';
import { poll } from './poll.js';
import { ProcessMeter } from './process-meter.js';
import { type BenchReport, median } from './report.js';

const MB = 1024 * 1024;

async function once(level: number, run: number, seconds: number) {
  const pages = await startPageServer();
  const svc = await startService({ RECORDER_SLOTS: String(level), BROWSER_POOL: '0', ADMISSION_CPU_CORES: '0', ADMISSION_MEMORY_MB: '0', LOG_LEVEL: 'info' });
  try {
    await sleep(1000); // let start-up settle before measuring
    const ids: string[] = [];
    for (let i = 0; i < level; i++) ids.push((await svc.api('Start', { RecordURL: pages.url('counter.html'), Width: 1280, Height: 720 })).TaskID as string);
    await Promise.all(ids.map((id) => poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording')));
    await sleep(1000); // every page running, before the window opens
    const total = new ProcessMeter(() => [svc.child.pid!, ...processesOf(svc.runMarker)]);
    const each = ids.map((id) => new ProcessMeter(() => processesOfTask(svc.logFile, id)));
    for (const m of [total, ...each]) m.start();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const recorded = (performance.now() - t0) / 1000;
    const cpu = total.stop();
    for (const m of each) m.stop();
    for (const id of ids) await svc.api('Stop', { TaskID: id });
    const files = [];
    for (const id of ids) {
      await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished');
      const task = await svc.api('Describe', { TaskID: id });
      if (task.Result.ErrorCode) throw new Error(`${id}: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
      const file = join(svc.dataDir, `${id}.mp4`);
      writeFileSync(file, Buffer.from(await (await fetch(task.Result.Videos[0].FileURL)).arrayBuffer()));
      files.push(file);
    }
    const media = files.map((f) => ({ fps: analyse(f).distinctPerSecond, av: avOffsetMs(f)?.median ?? NaN }));
    return {
      level,
      run,
      cpuPerRecording: +(cpu.total / recorded / level).toFixed(3),
      minDistinctFps: +Math.min(...media.map((m) => m.fps)).toFixed(2),
      worstAvOffsetMs: media.map((m) => m.av).reduce((a, b) => (Math.abs(b) > Math.abs(a) ? b : a)),
      peakMemoryPerRecordingMb: Math.round(Math.max(...each.map((m) => m.peakMemory)) / MB),
      peakMemoryTotalMb: Math.round(total.peakMemory / MB),
      cpuByProcess: JSON.stringify(Object.fromEntries(Object.entries(cpu.byProcess).map(([k, v]) => [k, +(v / recorded).toFixed(3)]))),
    };
  } finally {
    await svc.stop();
    await pages.close();
  }
}

export async function record(): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 20);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const levels = (process.env.BENCH_LEVELS ?? '1,2,3').split(',').map(Number);
  const rows: Awaited<ReturnType<typeof once>>[] = [];
  for (const level of levels) for (let run = 1; run <= runs; run++) rows.push(await once(level, run, seconds));
  const byLevel = levels.map((level) => {
    const rs = rows.filter((r) => r.level === level);
    return {
      level,
      cpu: +median(rs.map((r) => r.cpuPerRecording)).toFixed(3),
      fps: +median(rs.map((r) => r.minDistinctFps)).toFixed(2),
      av: median(rs.map((r) => r.worstAvOffsetMs)),
      memory: median(rs.map((r) => r.peakMemoryPerRecordingMb)),
    };
  });
  const figures: BenchReport['figures'] = {};
  for (const l of byLevel) {
    figures[`cpuPerRecording@${l.level}`] = l.cpu;
    figures[`distinctFps@${l.level}`] = l.fps;
    figures[`avOffsetMs@${l.level}`] = l.av;
    figures[`peakMemoryPerRecordingMb@${l.level}`] = l.memory;
  }
  const chart = lineChart({
    title: 'Concurrent 1280×720 recordings on one machine',
    x: { label: 'recordings at once', values: levels },
    y: { label: 'distinct frames per second (lowest recording)', min: 0, max: 32, series: [{ name: 'distinct fps', points: byLevel.map((l) => [l.level, l.fps]) }] },
    y2: { label: 'CPU core-seconds per recorded second, per recording', min: 0, series: [{ name: 'CPU per recording', points: byLevel.map((l) => [l.level, l.cpu]) }] },
  });
  return {
    name: 'record',
    rows,
    figures,
    targets: { 'cpuPerRecording@1': '<= 0.75', 'distinctFps@1': '>= 29.5', 'distinctFps@2': '>= 29 (2 cores)', avOffsetMs: '|x| <= 50' },
    charts: [{ name: 'concurrency', svg: chart }],
  };
}
