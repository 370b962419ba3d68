// `npm run bench:record`: one 20 s 1280×720 recording of the counter page through the service's API.
// Prints CPU core-seconds per recorded second (all processes: the service, its redis-server, the
// task's Chromium and ffmpeg), distinct fps, A/V offset, Start → first frame and Stop → finished.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyse, avOffsetMs } from '../test/helpers/media.js';
import { startPageServer } from '../test/helpers/pages.js';
import { processesOf, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { CpuMeter } from './cpu-meter.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);

async function once(run: number) {
  const pages = await startPageServer();
  const svc = await startService({ RECORDER_SLOTS: '2', LOG_LEVEL: 'warn' });
  try {
    await sleep(1000); // let start-up settle before measuring
    const t0 = performance.now();
    const { TaskID: id } = await svc.api('Start', { RecordURL: pages.url('counter.html'), Width: 1280, Height: 720 });
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
    const firstFrameMs = performance.now() - t0;
    const meter = new CpuMeter(() => [svc.child.pid!, ...processesOf(svc.runMarker)]);
    meter.start();
    const recStart = performance.now();
    await sleep(SECONDS * 1000);
    const tStop = performance.now();
    await svc.api('Stop', { TaskID: id });
    const cpu = meter.stop();
    const recorded = (tStop - recStart) / 1000;
    await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished');
    const stopToFinishedMs = performance.now() - tStop;
    const task = await svc.api('Describe', { TaskID: id });
    const url = task.Result.Videos[0].FileURL as string;
    const file = join(svc.dataDir, `${id}.mp4`);
    writeFileSync(file, Buffer.from(await (await fetch(url)).arrayBuffer()));
    const a = analyse(file);
    const av = avOffsetMs(file);
    return {
      run,
      cpuCoreSecondsPerRecordedSecond: +(cpu.total / recorded).toFixed(3),
      cpuByProcess: JSON.stringify(Object.fromEntries(Object.entries(cpu.byProcess).map(([k, v]) => [k, +(v / recorded).toFixed(3)]))),
      distinctFps: +a.distinctPerSecond.toFixed(2),
      avOffsetMs: av?.median ?? null,
      avMatched: av?.matched ?? 0,
      startToFirstFrameMs: Math.round(firstFrameMs),
      stopToFinishedMs: Math.round(stopToFinishedMs),
      duration: a.info.duration,
      size: `${a.info.video?.width}x${a.info.video?.height}`,
    };
  } finally {
    await svc.stop();
    await pages.close();
  }
}

async function poll(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}

const results: Awaited<ReturnType<typeof once>>[] = [];
for (let i = 1; i <= RUNS; i++) results.push(await once(i));
console.table(results);
const median = (k: keyof (typeof results)[number]) => {
  const v = results.map((r) => Number(r[k])).sort((x, y) => x - y);
  return v[v.length >> 1];
};
console.log(
  JSON.stringify({
    bench: 'record',
    seconds: SECONDS,
    runs: RUNS,
    median: {
      cpuCoreSecondsPerRecordedSecond: median('cpuCoreSecondsPerRecordedSecond'),
      distinctFps: median('distinctFps'),
      avOffsetMs: median('avOffsetMs'),
      startToFirstFrameMs: median('startToFirstFrameMs'),
      stopToFinishedMs: median('stopToFinishedMs'),
    },
    targets: { cpuCoreSecondsPerRecordedSecond: '<= 0.75', distinctFps: '>= 29.5', avOffsetMs: '|x| <= 50' },
  }),
);
