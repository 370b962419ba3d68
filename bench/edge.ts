// Describe answered three ways, on loopback, in one run: straight from the task's region, through the
// edge worker (the edge bundle in workerd, one gateway RPC to the region), and through another
// region's host (one gateway RPC from there). Two regions, each its own Redis and ROLE=api host (the
// task stays queued: enough to describe it), open mode.
// - Latency: BENCH_EDGE_CALLS (default 1000) Describes one after another each way; p50/p99.
// - Throughput: autocannon, 16 connections, BENCH_API_SECONDS (default 5) each way, BENCH_RUNS rounds.
import { freePort } from '../lib/net.js';
import { createLogger } from '../lib/logger.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { startService } from '../test/helpers/service.js';
import { startEdgeWorker } from '../test/helpers/workerd.js';
import { startEmbeddedRedis } from '../wrangler-free-runtime/node/embedded-redis.js';
import { load } from './autocannon.js';
import { type BenchReport, median, percentile } from './report.js';

export async function edge(): Promise<BenchReport> {
  const calls = Number(process.env.BENCH_EDGE_CALLS ?? 1000);
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 5);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const secret = 'a-secret-for-the-edge-benchmark';
  const log = createLogger('warn');
  const [redisA, redisB] = [await startEmbeddedRedis(scratchDir('bench-edge-a'), log), await startEmbeddedRedis(scratchDir('bench-edge-b'), log)];
  const [portA, portB] = [await freePort(), await freePort()];
  const endpoints = `ra=http://127.0.0.1:${portA},rb=http://127.0.0.1:${portB}`;
  const common = { ROLE: 'api', CLUSTER_SECRET: secret, REGION_ENDPOINTS: endpoints, LOG_LEVEL: 'warn' };
  const a = await startService({ ...common, REDIS_URL: redisA.url, REGION: 'ra' }, { port: portA });
  const b = await startService({ ...common, REDIS_URL: redisB.url, REGION: 'rb' }, { port: portB });
  const worker = await startEdgeWorker({ REGION_ENDPOINTS: endpoints, CLUSTER_SECRET: secret, REGION: 'ra' });
  const rows: Record<string, unknown>[] = [];
  const figures: Record<string, number | string | null> = {};
  try {
    const taskId = (await a.api('Start', { RecordURL: 'https://example.com/' })).TaskID as string;
    const body = { Action: 'Describe', Data: { TaskID: taskId } };
    const ways = { direct: a.url, edge: worker.url, 'other region': b.url };
    for (const [way, url] of Object.entries(ways)) {
      const ms: number[] = [];
      let failed = 0;
      for (let i = 0; i < calls + 50; i++) {
        const t0 = performance.now();
        const res = await fetch(url + '/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const answer = (await res.json()) as { TaskID?: string };
        if (i >= 50) ms.push(performance.now() - t0); // the first 50 warm the connections and the isolate
        if (answer.TaskID !== taskId) failed++;
      }
      const rounds = [];
      for (let r = 0; r < runs; r++) rounds.push(await load(url + '/', body, 16, seconds));
      const row = {
        way,
        'sequential p50 ms': +percentile(ms, 50).toFixed(2),
        'sequential p99 ms': +percentile(ms, 99).toFixed(2),
        failed,
        'req/s (median)': median(rounds.map((x) => x.rps)),
        'loaded p50 ms': median(rounds.map((x) => x.p50)),
        'loaded p99 ms': median(rounds.map((x) => x.p99)),
        'non-2xx': rounds.reduce((n, x) => n + x.non2xx + x.errors, 0),
      };
      rows.push(row);
      figures[`${way} p50 ms`] = row['sequential p50 ms'];
      figures[`${way} p99 ms`] = row['sequential p99 ms'];
      figures[`${way} req/s`] = row['req/s (median)'];
    }
  } finally {
    await worker.stop();
    await Promise.all([a.stop(), b.stop()]);
    await Promise.all([redisA.stop(), redisB.stop()]);
  }
  return { name: 'edge', rows, figures };
}
