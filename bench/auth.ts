// What application authentication costs: Describe on two API hosts, one open and one with
// API keys, under the same load, rounds alternating. Every signed request is signed anew (a signature
// is accepted once: the host checks the MD5 of the body, the HMAC, and records the signature in Redis).
import { createLogger } from '../lib/logger.js';
import { startService } from '../test/helpers/service.js';
import { scratchDir } from '../test/helpers/scratch.js';
import { startEmbeddedRedis } from '../wrangler-free-runtime/node/embedded-redis.js';
import { load } from './autocannon.js';
import { type BenchReport, median } from './report.js';

const KEY = { key: 'bench', secret: 'bench-secret-0123456789' };

export async function auth(): Promise<BenchReport> {
  const seconds = Number(process.env.BENCH_API_SECONDS ?? 5);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  // One redis-server each: two hosts on one Redis would forward each other's calls.
  const redisOpen = await startEmbeddedRedis(scratchDir('bench-auth-redis'), createLogger('warn'));
  const redisKeyed = await startEmbeddedRedis(scratchDir('bench-auth-redis'), createLogger('warn'));
  const open = await startService({ ROLE: 'api', REDIS_URL: redisOpen.url, LOG_LEVEL: 'warn' });
  const keyed = await startService({ ROLE: 'api', REDIS_URL: redisKeyed.url, LOG_LEVEL: 'warn', API_KEYS: `${KEY.key}:${KEY.secret}` });
  const rows: Record<string, unknown>[] = [];
  try {
    // A task on each, described there.
    const describeOn = async (svc: typeof open) => ({ Action: 'Describe', Data: { TaskID: (await svc.client.start({ RecordURL: 'https://example.com/' })).TaskID } });
    const describeOpen = await describeOn(open);
    const describeKeyed = await describeOn(keyed);
    await load(open.url, describeOpen, 20, 2); // warm-up (JIT, connections)
    await load(keyed.url, describeKeyed, 20, 2, KEY);
    for (let run = 1; run <= runs; run++) {
      const o = await load(open.url, describeOpen, 50, seconds);
      const s = await load(keyed.url, describeKeyed, 50, seconds, KEY);
      rows.push({ run, what: 'Describe, open', connections: 50, ...o });
      rows.push({ run, what: 'Describe, signed (hmac-sha1)', connections: 50, ...s, vsOpen: +(s.rps / o.rps).toFixed(2) });
    }
  } finally {
    await keyed.stop();
    await open.stop();
    await redisOpen.stop();
    await redisKeyed.stop();
  }
  const of = (what: string) => rows.filter((r) => r.what === what);
  return {
    name: 'auth',
    rows,
    figures: {
      openRps: median(of('Describe, open').map((r) => r.rps as number)),
      signedRps: median(of('Describe, signed (hmac-sha1)').map((r) => r.rps as number)),
      signedVsOpen: median(of('Describe, signed (hmac-sha1)').map((r) => r.vsOpen as number)),
      openP99Ms: median(of('Describe, open').map((r) => r.p99 as number)),
      signedP99Ms: median(of('Describe, signed (hmac-sha1)').map((r) => r.p99 as number)),
      failedRequests: rows.reduce((n, r) => n + (r.errors as number) + (r.non2xx as number), 0),
    },
    targets: { signedVsOpen: '>= 0.5', failedRequests: '0' },
  };
}
