// A runtime host in the test's own process: a TaskRuntime on a real Redis, served over real HTTP by
// the Node adapter (the edge app and the internal RPC), announced to its peers.
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { createEdgeApp } from '../../edge/app.js';
import type { EdgeEnv } from '../../edge/envelope.js';
import { rateLimit as edgeRateLimit } from '../../edge/rate-limit.js';
import { redisRateLimiter } from '../../lib/rate-limiter.js';
import { createLogger } from '../../lib/logger.js';
import { freePort } from '../../lib/net.js';
import { connectRedis, type RedisClient } from '../../lib/redis-connect.js';
import { parseAllowlist } from '../../protocol/url-policy.js';
import { TaskRuntime } from '../../tasks/task-runtime.js';
import { clientAddress, type HttpServer, startHttpServer } from '../../wrangler-free-runtime/node/http-server.js';
import { scratchDir } from './scratch.js';

export type RuntimeHost = { runtime: TaskRuntime; http: HttpServer; url: string; id: string; stop(): Promise<void> };

export async function startRuntimeHost(o: {
  redisUrl: string;
  name: string;
  region: string;
  /** Also sets how often the host looks at the live hosts (a third of it). */
  leaseTtlMs: number;
  /** Every host of a test shares one (sealed keys open on any host). */
  kek?: Buffer;
  /** The edge's authentication, given the host's main connection (for the used signatures). */
  auth?: (main: RedisClient) => MiddlewareHandler<EdgeEnv>;
  /** RATE_LIMIT and RATE_BURST. */
  rateLimit?: { perSecond: number; burst: number };
  maxTasks?: number;
}): Promise<RuntimeHost> {
  const conns: RedisClient[] = [];
  const c = () => {
    const conn = connectRedis({ url: o.redisUrl }, { maxRetriesPerRequest: null });
    conns.push(conn);
    return conn;
  };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const main = c();
  const runtime = await TaskRuntime.create({
    redis: { main, blocking: c(), reads: c() },
    sharedRedis: true,
    hostId: `host-${o.name}-${crypto.randomUUID().slice(0, 6)}`,
    region: o.region,
    internalUrl: url,
    version: 'test',
    clusterSecret: 'the-test-hosts-cluster-secret',
    leaseTtlMs: o.leaseTtlMs,
    finishedTtlMs: 60_000,
    actor: { callback: { maxTries: 1, firstRetryDelayMs: 10, timeoutMs: 100, watchdogSlackMs: 10 }, queueTimeoutMs: 600_000 },
    callbackTimeoutMs: 1000,
    capabilities: { cos: false, vod: false },
    recordIdTtlMs: 60_000,
    kek: o.kek ?? randomBytes(32),
    maxTasks: o.maxTasks,
    log: createLogger('silent'),
  });
  await runtime.start();
  const rateLimit = o.rateLimit
    ? edgeRateLimit({
        limiter: redisRateLimiter(main, o.rateLimit.perSecond, o.rateLimit.burst),
        clientAddress,
      })
    : undefined;
  const edge = createEdgeApp({ gateway: runtime.gateway, auth: o.auth?.(main), rateLimit, urlPolicy: parseAllowlist('127.0.0.1') });
  const http = await startHttpServer(edge, { host: '127.0.0.1', port, filesDir: scratchDir(`${o.name}-files`), internal: runtime.rpcApp });
  await runtime.announce();
  return {
    runtime,
    http,
    url,
    id: runtime.view.selfId,
    /** Leaves, closes and stops what is still running (a test may have stopped a part of it already). */
    async stop() {
      await runtime.leave().catch(() => undefined);
      await http.close().catch(() => undefined);
      await runtime.stop().catch(() => undefined);
      for (const conn of conns) conn.disconnect();
    },
  };
}
