// API throughput and latency under load: Describe and Start against the real service (ROLE=api on
// the same kind of Redis as the embedded default), side by side with a bare Hono + ioredis handler
// doing one GET of the same record, all on one redis-server. Load comes from autocannon in a second
// process, over loopback, for BENCH_API_SECONDS (default 5) per round; BENCH_RUNS rounds (default 3)
// alternate the bare handler (plain, and auto-pipelined as the service's reads are) and Describe, so
// each ratio is measured in the same round. Then the Start rounds, and once more Describe against
// bare with the tens of thousands of tasks those Starts queued.
import { type ChildProcess, spawn } from 'node:child_process';
import { createLogger } from '../lib/logger.js';
import { freePort } from '../lib/net.js';
import { startService } from '../test/helpers/service.js';
import { waitFor } from '../test/helpers/wait.js';
import { startEmbeddedRedis } from '../wrangler-free-runtime/node/embedded-redis.js';
import { load } from './autocannon.js';
import { type BenchReport, median } from './report.js';
import { scratchDir } from '../test/helpers/scratch.js';

async function startBare(redisUrl: string, mode: 'plain' | 'pipelined'): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const script = new URL('./bare-server.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), redisUrl, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', () => reject(new Error('the bare server did not start')));
  });
  return { url: `http://127.0.0.1:${port}/`, child };
}

export async function api(): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 5);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const redis = await startEmbeddedRedis(scratchDir('bench-redis'), createLogger('warn'));
  const svc = await startService({ ROLE: 'api', REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
  const bare = await startBare(redis.url, 'plain');
  const barePipelined = await startBare(redis.url, 'pipelined');
  const rows: Record<string, unknown>[] = [];
  try {
    const { TaskID } = await svc.api('Start', { RecordURL: 'https://example.com/' });
    await waitFor(async () => (await svc.api('Describe', { TaskID })).TaskID === TaskID, { timeoutMs: 5000, what: 'the task' });
    const describe = { Action: 'Describe', Data: { TaskID } };
    const startBody = { Action: 'Start', Data: { RecordURL: 'https://example.com/', Width: 1280, Height: 720 } };
    await load(svc.url, describe, 20, 2); // warm-up (JIT, connections)
    await load(bare.url, describe, 20, 2);
    await load(barePipelined.url, describe, 20, 2);
    for (let run = 1; run <= runs; run++) {
      const b = await load(bare.url, describe, 50, seconds);
      const p = await load(barePipelined.url, describe, 50, seconds);
      const d = await load(svc.url, describe, 50, seconds);
      rows.push({ run, what: 'bare Hono + ioredis GET', connections: 50, ...b });
      rows.push({ run, what: 'bare, auto-pipelined GET', connections: 50, ...p });
      rows.push({ run, what: 'Describe', connections: 50, ...d, vsBare: +(d.rps / b.rps).toFixed(2), vsPipelinedBare: +(d.rps / p.rps).toFixed(2) });
    }
    // Start last: every Start queues a task (no recorder here), thousands a second.
    for (let run = 1; run <= runs; run++) rows.push({ run, what: 'Start', connections: 10, ...(await load(svc.url, startBody, 10, seconds)) });
    // A backlog of queued tasks must not slow the API once their actors sleep (nothing to do until a
    // recorder takes their job): Describe again, side by side with the bare handler.
    const health = async () => (await (await fetch(new URL('/healthz', svc.url))).json()) as { detail: { activeTasks: number } };
    await waitFor(async () => (await health()).detail.activeTasks < 10, { timeoutMs: 120_000, intervalMs: 1000, what: 'idle actors asleep' });
    const queued = rows.filter((r) => r.what === 'Start').reduce((n, r) => n + (r.rps as number) * seconds, 0);
    const b = await load(bare.url, describe, 50, seconds);
    const d = await load(svc.url, describe, 50, seconds);
    rows.push({ run: 'backlog', what: 'bare Hono + ioredis GET (backlog)', connections: 50, ...b });
    rows.push({ run: 'backlog', what: `Describe with ~${Math.round(queued / 1000)}k tasks queued`, connections: 50, ...d, vsBare: +(d.rps / b.rps).toFixed(2) });
  } finally {
    bare.child.kill('SIGKILL');
    barePipelined.child.kill('SIGKILL');
    await svc.stop();
    await redis.stop();
  }
  const of = (what: string) => rows.filter((r) => r.what === what);
  const failed = rows.reduce((n, r) => n + (r.errors as number) + (r.non2xx as number), 0);
  return {
    name: 'api',
    rows,
    figures: {
      bareRps: median(of('bare Hono + ioredis GET').map((r) => r.rps as number)),
      describeRps: median(of('Describe').map((r) => r.rps as number)),
      describeVsBare: median(of('Describe').map((r) => r.vsBare as number)),
      // What the service's own code costs: the same comparison with the bare handler's GETs pipelined too.
      describeVsPipelinedBare: median(of('Describe').map((r) => r.vsPipelinedBare as number)),
      bareAutoPipelinedRps: median(of('bare, auto-pipelined GET').map((r) => r.rps as number)),
      describeP50Ms: median(of('Describe').map((r) => r.p50 as number)),
      describeP99Ms: median(of('Describe').map((r) => r.p99 as number)),
      startRps: median(of('Start').map((r) => r.rps as number)),
      startP50Ms: median(of('Start').map((r) => r.p50 as number)),
      startP99Ms: median(of('Start').map((r) => r.p99 as number)),
      describeVsBareWithBacklog: rows.at(-1)!.vsBare as number,
      failedRequests: failed,
    },
    targets: { describeVsBare: '>= 0.7', describeVsBareWithBacklog: '>= 0.7', startP99Ms: '<= 20', failedRequests: '0' },
  };
}
