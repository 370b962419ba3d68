// Stop → finished against recording length, for MP4 and HLS, to each storage target
// (BENCH_TARGETS, default local,cos): local disk (BENCH_LENGTHS, seconds, default 10,60,180,600) and
// COS (BENCH_COS_LENGTHS, default 60,600), the latter through the real SDK to the tests' COS on
// loopback, which checks every signature as COS does: what is measured is what is left to upload at
// Stop, not a network. Each recording runs alone, so what is measured is the finishing itself, not a
// second recording competing for the two cores; the short lengths are repeated (BENCH_RUNS, default
// 3, for lengths ≤ 60 s; BENCH_LONG_RUNS, default 1, for longer ones, as a 10-minute repeat costs
// another 20 minutes) and their median taken.
// Targets: ≤ 2 s at every length, and the longest over the 60 s one ≤ 1.3 (same run, same target).
import { readFileSync } from 'node:fs';
import { type FakeCos, startFakeCos } from '../test/helpers/fake-cos.js';
import { startPageServer } from '../test/helpers/pages.js';
import { type RunningService, startService } from '../test/helpers/service.js';
import { sleep } from '../test/helpers/wait.js';
import { lineChart } from './chart.js';
import { poll } from './poll.js';
import { type BenchReport, median } from './report.js';

type Muxer = 'mp4' | 'hls';
type Target = 'local' | 'cos';

const COS_BUCKET = 'bench-1250000000';
const COS_CREDENTIALS = { secretId: 'AKIDbenchcos000000000000000000000000', secretKey: 'bench-cos-secret-key-0123456789abcd' };

/** Records `seconds` of `muxer` alone; Stop → finished, and the recorder's account of its phases. */
async function once(svc: RunningService, url: string, muxer: Muxer, seconds: number, cos: FakeCos | null) {
  const id = (await svc.api('Start', { RecordURL: url, MaxDurationLimit: seconds + 600, Output: { Video: { Muxer: muxer } } })).TaskID as string;
  await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'recording');
  await sleep(seconds * 1000);
  const t0 = performance.now();
  await svc.api('Stop', { TaskID: id });
  await poll(async () => (await svc.api('Describe', { TaskID: id })).Status === 'finished', 600_000);
  const ms = Math.round(performance.now() - t0);
  const task = await svc.api('Describe', { TaskID: id });
  if (task.Result.ErrorCode) throw new Error(`${muxer}: ${task.Result.ErrorCode} ${task.Result.ErrorMessage}`);
  // The recorder logs its phases as it reports the result, so the line may land just after Describe says finished.
  const lineOf = () =>
    readFileSync(svc.logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes(id) && l.includes('"stopMs"'));
  let line = lineOf();
  for (let i = 0; !line && i < 20; i++) line = (await sleep(100), lineOf());
  if (cos) {
    // The result is the bucket's object, whole: what was measured is a delivery, not a promise.
    const key = new URL(task.Result.Videos[0].FileURL).pathname.slice(1);
    const size = cos.object(COS_BUCKET, decodeURIComponent(key))?.length;
    if (muxer === 'mp4' && size !== task.Result.Videos[0].FileSize) throw new Error(`cos: ${key} holds ${size} bytes, Describe says ${task.Result.Videos[0].FileSize}`);
    if (muxer === 'hls' && !size) throw new Error(`cos: no playlist at ${key}`);
  }
  // Let its clean-up (removing the intermediate file, the disk writing back) end before the next.
  await sleep(10_000);
  return {
    ms,
    fileS: task.Result.Videos[0].FileDuration as number,
    fileMiB: Math.round((task.Result.Videos[0].FileSize as number) / 2 ** 20),
    phases: line ? (JSON.parse(line).stopMs as Record<string, number>) : null,
  };
}

/** One service per target: local disk, or COS through the SDK to the fake on loopback. */
async function serviceFor(target: Target): Promise<{ svc: RunningService; cos: FakeCos | null }> {
  if (target === 'local') return { svc: await startService({ LOG_LEVEL: 'info' }), cos: null };
  // Parts joined as the object is read, as COS does on its own machines: CompleteMultipartUpload is
  // bookkeeping there, and the fake copying a 10-minute MP4 together is no part of Stop → finished.
  const cos = await startFakeCos({ credentials: [COS_CREDENTIALS], joinParts: 'read' });
  const svc = await startService({
    LOG_LEVEL: 'info',
    COS_SECRET_ID: COS_CREDENTIALS.secretId,
    COS_SECRET_KEY: COS_CREDENTIALS.secretKey,
    COS_BUCKET,
    COS_REGION: 'ap-guangzhou',
    COS_ENDPOINT: cos.url,
  });
  return { svc, cos };
}

export async function finish(): Promise<BenchReport> {
  const targets = (process.env.BENCH_TARGETS ?? 'local,cos').split(',') as Target[];
  const lengthsOf = (t: Target) => (t === 'cos' ? (process.env.BENCH_COS_LENGTHS ?? '60,600') : (process.env.BENCH_LENGTHS ?? '10,60,180,600')).split(',').map(Number);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const longRuns = Number(process.env.BENCH_LONG_RUNS ?? 1);
  const MUXERS = (process.env.BENCH_MUXERS ?? 'mp4,hls').split(',') as Muxer[];
  const pages = await startPageServer();
  const rows: Record<string, unknown>[] = [];
  const figures: BenchReport['figures'] = {};
  const charts: BenchReport['charts'] = [];
  const targetsOut: Record<string, string> = {};
  try {
    for (const target of targets) {
      const lengths = lengthsOf(target);
      const { svc, cos } = await serviceFor(target);
      const mine: Record<string, unknown>[] = [];
      try {
        for (const seconds of lengths) {
          const row: Record<string, unknown> = { target, seconds };
          for (const muxer of MUXERS) {
            const samples = [];
            for (let i = 0; i < (seconds <= 60 ? runs : longRuns); i++) {
              samples.push(await once(svc, pages.url('counter.html'), muxer, seconds, cos));
              console.error(`finish: ${target} ${muxer} ${seconds} s → ${samples.at(-1)!.ms} ms ${JSON.stringify(samples.at(-1)!.phases)}`);
            }
            row[`${muxer}Ms`] = median(samples.map((s) => s.ms));
            row[`${muxer}Samples`] = samples.map((s) => s.ms).join('/');
            row[`${muxer}FileS`] = samples[0]!.fileS;
            if (muxer === 'mp4') row.mp4MiB = samples[0]!.fileMiB;
            row[`${muxer}Phases`] = JSON.stringify(samples.map((s) => s.phases));
          }
          mine.push(row);
        }
      } finally {
        await svc.stop();
        await cos?.close();
      }
      rows.push(...mine);
      const at = (s: number, m: string) => mine.find((r) => r.seconds === s)?.[`${m}Ms`] as number | undefined;
      const longest = Math.max(...lengths);
      // Local keeps its figures' old names, so earlier results still compare.
      const name = (f: string) => (target === 'local' ? f : `${target}${f[0]!.toUpperCase()}${f.slice(1)}`);
      for (const m of MUXERS) {
        figures[name(`${m}MaxMs`)] = Math.max(...mine.map((r) => r[`${m}Ms`] as number));
        const base = at(60, m);
        figures[name(`${m}Ratio${longest}sTo60s`)] = base ? +(at(longest, m)! / base).toFixed(2) : null;
        targetsOut[name(`${m}MaxMs`)] = '<= 2000';
      }
      targetsOut[name('ratio')] = `<= 1.3 (${longest} s over 60 s)`;
      charts.push({
        name: target === 'local' ? 'stop-to-finished' : `stop-to-finished-${target}`,
        svg: lineChart({
          title: `Stop → finished against recording length, to ${target === 'local' ? 'local disk' : 'COS'} (each recording alone)`,
          x: { label: 'recording length (s, log scale)', values: lengths, log: true },
          y: {
            label: 'Stop → finished (ms)',
            min: 0,
            series: MUXERS.map((m) => ({ name: m.toUpperCase(), points: mine.map((r) => [r.seconds as number, r[`${m}Ms`] as number] as [number, number]) })),
          },
        }),
      });
    }
  } finally {
    await pages.close();
  }
  return { name: 'finish', rows, figures, targets: targetsOut, charts };
}
