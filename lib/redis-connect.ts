// One way to open Redis connections for every part of the service: a single server (REDIS_URL, or
// the embedded default's) or a Redis Cluster (REDIS_CLUSTER_NODES, through ioredis' cluster client).
// Callers never branch on which: keys carry hash tags, so every command, script and pipeline stays
// within one slot either way.
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

/** Where the state store is: one server's URL, or seed nodes of a cluster. */
export type RedisTarget = { url: string } | { cluster: { host: string; port: number }[] };

export type ConnectOptions = {
  /** null: keep a command queued until the connection is back (blocking readers, recorders). */
  maxRetriesPerRequest?: number | null;
  /** Send the commands of one event-loop turn in one write (read-heavy connections). */
  autoPipelining?: boolean;
  lazyConnect?: boolean;
  /**
   * A command not answered in this long fails (ioredis' commandTimeout, queued ones included): what
   * answers an API call while the store is away, instead of a wait without end.
   */
  commandTimeoutMs?: number;
};

const FAILOVER_RETRY_MS = 200;

export function connectRedis(target: RedisTarget, o: ConnectOptions = {}): RedisClient {
  const base: RedisOptions = {
    maxRetriesPerRequest: o.maxRetriesPerRequest === undefined ? 3 : o.maxRetriesPerRequest,
    lazyConnect: o.lazyConnect ?? false,
    ...(o.commandTimeoutMs ? { commandTimeout: o.commandTimeoutMs } : {}),
  };
  if ('url' in target) return new Redis(target.url, { ...base, enableAutoPipelining: o.autoPipelining ?? false });
  return new Cluster(target.cluster, {
    redisOptions: base,
    lazyConnect: o.lazyConnect ?? false,
    enableAutoPipelining: o.autoPipelining ?? false,
    // Every read from the masters: a replica may lag behind a fenced write just made.
    scaleReads: 'master',
    // A failover moves slots; ioredis follows MOVED/ASK and refreshes the slot map meanwhile. Each
    // try on a node that is down fails at once and is tried again after retryDelayOnFailover, up to
    // maxRedirections times: with a command timeout (the API's), no more tries than fit in it
    // (16 × 200 ms kept a Describe 3.2 s through a failover).
    ...(o.commandTimeoutMs ? { maxRedirections: Math.max(1, Math.floor(o.commandTimeoutMs / FAILOVER_RETRY_MS) - 1) } : {}),
    retryDelayOnFailover: FAILOVER_RETRY_MS,
    retryDelayOnClusterDown: 300,
    slotsRefreshTimeout: 2000,
  });
}

/** Parses REDIS_CLUSTER_NODES ("host:port,host:port"); throws naming the bad entry. */
export function parseClusterNodes(text: string): { host: string; port: number }[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(entry);
      const port = m ? Number(m[2]) : 0;
      if (!m || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
    });
}

/** A pipeline answers each command's error in its results instead of failing: fail here. */
export function throwIfFailed(results: [Error | null, unknown][] | null): void {
  const err = results?.find(([e]) => e)?.[0];
  if (err) throw err;
}

/** Whether `err` says the store cannot be reached now (down, restarting, failing over), not a bug. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    err.name === 'ClusterAllFailedError' ||
    /^(Command timed out|Connection is closed|Stream isn't writeable|Too many Cluster redirections|MOVED |ASK |LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|MISCONF)/.test(err.message) ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    code === 'ETIMEDOUT'
  );
}
