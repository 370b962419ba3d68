// Many hosts on one Redis: what forwarding a call to the task's owner costs, whether more API hosts
// answer more, and how long a dead owner's tasks go unanswered. Three ROLE=api hosts on one
// redis-server (no recorder: tasks stay queued, which is enough to route commands to their actors).
// - Command latency: BENCH_CLUSTER_CALLS (default 1000) Refresh calls one after another through a
//   host that does not own the task, and as many through its owner; p50/p99 of each.
// - Describe throughput: autocannon against one host (48 connections), then three autocannons at
//   once against the three hosts (16 connections each), BENCH_API_SECONDS each, BENCH_RUNS rounds.
// - Failover: a fourth host that owns a task is killed (SIGKILL, then in another round SIGTERM);
//   the time until the task answers again through another host. BENCH_RUNS rounds of each.
import { createLogger } from '../lib/logger.js';
import { shardOf } from '../protocol/shard.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { type RunningService, startService } from '../test/helpers/service.js';
import { startEmbeddedRedis } from '../wrangler-free-runtime/node/embedded-redis.js';
import { ownerOf } from '../wrangler-free-runtime/placement/rendezvous.js';
import { load } from './autocannon.js';
import { type BenchReport, median, percentile } from './report.js';

type Host = RunningService & { id: string };

export async function cluster(): Promise<BenchReport> {
  const calls = Number(process.env.BENCH_CLUSTER_CALLS ?? 1000);
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 5);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const leaseMs = 5000;
  const dataDir = scratchDir('bench-cluster');
  const redis = await startEmbeddedRedis(scratchDir('bench-cluster-redis'), createLogger('warn'));
  const env = { ROLE: 'api', REDIS_URL: redis.url, CLUSTER_SECRET: 'a-secret-for-the-benchmark', LOG_LEVEL: 'warn', LEASE_TTL_MS: String(leaseMs) };
  const startHost = async (): Promise<Host> => {
    const svc = await startService(env, { dataDir });
    const health = (await (await fetch(`${svc.url}/healthz`)).json()) as { detail: { host: string } };
    return { ...svc, id: health.detail.host };
  };
  const hosts: Host[] = [];
  const extra: Host[] = [];
  const rows: Record<string, unknown>[] = [];
  try {
    for (let i = 0; i < 3; i++) hosts.push(await startHost());
    await new Promise((r) => setTimeout(r, 2000)); // every host sees the others
    const owner = (taskId: string, among: Host[]) =>
      among.find(
        (h) =>
          h.id ===
          ownerOf(
            shardOf(taskId),
            among.map((x) => x.id),
          ),
      )!;

    // Command latency through a non-owner and through the owner.
    const tasks: string[] = [];
    for (let i = 0; i < 20; i++) tasks.push((await hosts[i % 3]!.api('Start', { RecordURL: 'https://example.com/' })).TaskID as string);
    const timed = async (via: (id: string) => Host) => {
      const ms: number[] = [];
      let failed = 0;
      for (let i = 0; i < calls; i++) {
        const id = tasks[i % tasks.length]!;
        const t0 = performance.now();
        const a = await via(id).api('Refresh', { TaskID: id });
        ms.push(performance.now() - t0);
        if (a.ErrorCode) failed++;
      }
      return { p50: +percentile(ms, 50).toFixed(2), p99: +percentile(ms, 99).toFixed(2), max: +Math.max(...ms).toFixed(1), failed };
    };
    await timed((id) => hosts.find((h) => h !== owner(id, hosts))!); // warm-up
    for (let run = 1; run <= runs; run++) {
      rows.push({ run, what: 'Refresh through a non-owner', calls, ...(await timed((id) => hosts.find((h) => h !== owner(id, hosts))!)) });
      rows.push({ run, what: 'Refresh through the owner', calls, ...(await timed((id) => owner(id, hosts))) });
    }

    // Describe throughput, one host against three.
    const describe = { Action: 'Describe', Data: { TaskID: tasks[0] } };
    await load(hosts[0]!.url, describe, 48, 2); // warm-up
    for (let run = 1; run <= runs; run++) {
      const one = await load(hosts[0]!.url, describe, 48, seconds);
      const three = await Promise.all(hosts.map((h) => load(h.url, describe, 16, seconds)));
      const sum = three.reduce((n, r) => n + r.rps, 0);
      rows.push({ run, what: 'Describe, 1 API host', rps: one.rps, p99: one.p99, failed: one.errors + one.non2xx });
      rows.push({
        run,
        what: 'Describe, 3 API hosts',
        rps: sum,
        p99: Math.max(...three.map((r) => r.p99)),
        failed: three.reduce((n, r) => n + r.errors + r.non2xx, 0),
        vsOne: +(sum / one.rps).toFixed(2),
      });
    }

    // Failover: a host that owns a task goes; how long until the task answers through another host.
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      for (let run = 1; run <= runs; run++) {
        const doomed = await startHost();
        extra.push(doomed);
        const all = [...hosts, doomed];
        await new Promise((r) => setTimeout(r, 2000));
        let id = '';
        do id = (await hosts[0]!.api('Start', { RecordURL: 'https://example.com/' })).TaskID as string;
        while (owner(id, all) !== doomed);
        await hosts[1]!.api('Refresh', { TaskID: id }); // its actor is awake on its owner
        const t0 = performance.now();
        const gone = doomed.stop(signal);
        let unanswered = 0;
        for (;;) {
          const a = await hosts[1]!.api('Refresh', { TaskID: id });
          if (!a.ErrorCode) break;
          unanswered++;
          await new Promise((r) => setTimeout(r, 20));
        }
        rows.push({ run, what: `owner ${signal === 'SIGKILL' ? 'killed (SIGKILL)' : 'stopped (SIGTERM)'}: answered again after`, ms: Math.round(performance.now() - t0), unanswered, leaseMs });
        await gone;
      }
    }
  } finally {
    await Promise.all([...hosts, ...extra].map((h) => h.stop()));
    await redis.stop();
  }
  const of = (what: string) => rows.filter((r) => r.what === what);
  const fo = (sig: string) => of(`owner ${sig}: answered again after`).map((r) => r.ms as number);
  return {
    name: 'cluster',
    rows,
    figures: {
      nonOwnerP50Ms: median(of('Refresh through a non-owner').map((r) => r.p50 as number)),
      nonOwnerP99Ms: median(of('Refresh through a non-owner').map((r) => r.p99 as number)),
      ownerP50Ms: median(of('Refresh through the owner').map((r) => r.p50 as number)),
      ownerP99Ms: median(of('Refresh through the owner').map((r) => r.p99 as number)),
      describeRpsOneHost: median(of('Describe, 1 API host').map((r) => r.rps as number)),
      describeRpsThreeHosts: median(of('Describe, 3 API hosts').map((r) => r.rps as number)),
      describeThreeVsOne: median(of('Describe, 3 API hosts').map((r) => r.vsOne as number)),
      sigkillToAnsweredMs: median(fo('killed (SIGKILL)')),
      sigtermToAnsweredMs: median(fo('stopped (SIGTERM)')),
      leaseTtlMs: leaseMs,
      failedCalls: rows.reduce((n, r) => n + ((r.failed as number) ?? 0), 0),
    },
    targets: { nonOwnerP99Ms: '<= 20 (loopback)', sigkillToAnsweredMs: '<= lease TTL + 1 s' },
  };
}
