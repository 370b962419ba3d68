// `npm start`: the one place where the rooms are composed. Settings decide what this process is:
// ROLE=all (the embedded default: API, task runtime and a recorder), api (API and task runtime) or
// recorder; on a private redis-server, one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Hono } from 'hono';
import { createEdgeApp } from './edge/app.js';
import { appAuth } from './edge/app-auth.js';
import { createGatewayRpcApp } from './edge/gateway-rpc-server.js';
import { HttpGateway } from './edge/http-gateway.js';
import { rateLimit as edgeRateLimit } from './edge/rate-limit.js';
import { RegionGateway } from './edge/region-gateway.js';
import { loadEnvFile } from './lib/env-file.js';
import { loadKek } from './lib/key-wrap.js';
import { Metrics } from './lib/metrics.js';
import { createLogger, type Logger } from './lib/logger.js';
import { connectRedis, parseClusterNodes, type RedisTarget } from './lib/redis-connect.js';
import { redisRateLimiter } from './lib/rate-limiter.js';
import { redisSeenSignatures } from './lib/seen-signatures.js';
import { loadSettings, type Settings, SettingsError } from './lib/settings.js';
import { Shutdown } from './lib/shutdown.js';
import type { TaskGateway } from './protocol/gateway.js';
import { dirs } from './recorder/config.js';
import { FIRST_GUESS_CORES } from './recorder/cost-calibration.js';
import { resolveBrowserIdentity, SandboxUnavailable } from './recorder/capture/browser-sandbox.js';
import { Recorder } from './recorder/recorder.js';
import { ClusterSettingError, TaskRuntime } from './tasks/task-runtime.js';
import { startEmbeddedRedis } from './wrangler-free-runtime/node/embedded-redis.js';
import { clientAddress, startHttpServer } from './wrangler-free-runtime/node/http-server.js';

/** How long an API call waits for the store before it answers ServiceUnavailable (API.md: within 1 s). */
const STORE_TIMEOUT_MS = 800;

const VERSION = (JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function startService(settings: Settings, log: Logger): Promise<{ stop(): Promise<void> }> {
  const instance = `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const marker = { WEBRECORD_INSTANCE: instance };
  const shutdown = new Shutdown(log, settings.SHUTDOWN_GRACE_MS + 10_000);
  const metrics = new Metrics();
  try {
    const kek = loadKek(settings.KEY_WRAP_SECRET, dirs(settings.DATA_DIR).kek);
    let redis: RedisTarget;
    if (settings.REDIS_CLUSTER_NODES) redis = { cluster: parseClusterNodes(settings.REDIS_CLUSTER_NODES) };
    else if (settings.REDIS_URL) redis = { url: settings.REDIS_URL };
    else {
      const embedded = await startEmbeddedRedis(settings.DATA_DIR, log.child({ component: 'redis' }));
      shutdown.add({ name: 'embedded redis', run: () => embedded.stop() });
      redis = { url: embedded.url };
    }

    if (settings.ROLE !== 'recorder') {
      // While the store is away an API call fails within STORE_TIMEOUT_MS (503), it does not wait.
      const conns = {
        main: connectRedis(redis, { maxRetriesPerRequest: 3, commandTimeoutMs: STORE_TIMEOUT_MS }),
        blocking: connectRedis(redis, { maxRetriesPerRequest: null }),
        reads: connectRedis(redis, { maxRetriesPerRequest: 3, autoPipelining: true, commandTimeoutMs: STORE_TIMEOUT_MS }),
      };
      shutdown.redis = conns.main;
      for (const c of Object.values(conns)) c.on('error', (err) => log.debug({ err: String(err) }, 'redis connection error'));
      shutdown.add({ name: 'redis connections', run: async () => Object.values(conns).forEach((c) => c.disconnect()) });
      const runtimeLog = log.child({ component: 'runtime' });
      const runtime = await TaskRuntime.create({
        redis: conns,
        sharedRedis: settings.REDIS_URL !== undefined || settings.REDIS_CLUSTER_NODES !== undefined,
        hostId: `host-${instance}`,
        region: settings.REGION,
        internalUrl: settings.INTERNAL_URL,
        version: VERSION,
        clusterSecret: settings.CLUSTER_SECRET ?? null,
        leaseTtlMs: settings.LEASE_TTL_MS,
        finishedTtlMs: settings.TASK_TTL_DAYS * 86_400_000,
        actor: {
          callback: {
            maxTries: settings.CALLBACK_MAX_TRIES,
            firstRetryDelayMs: settings.CALLBACK_FIRST_RETRY_MS,
            timeoutMs: settings.CALLBACK_TIMEOUT_MS,
            watchdogSlackMs: 5000,
          },
          queueTimeoutMs: settings.QUEUE_TIMEOUT_S * 1000,
        },
        callbackSecret: settings.CALLBACK_SECRET,
        callbackTimeoutMs: settings.CALLBACK_TIMEOUT_MS,
        urlPolicy: settings.urlPolicy,
        maxTasks: settings.MAX_TASKS,
        onCallback: (delivered) => metrics.callback(delivered ? 'delivered' : 'failed'),
        capabilities: {
          cos: !!settings.cloud.cos,
          vod: !!settings.cloud.vod,
          ...(settings.cloud.cos?.bucket ? { cosBucket: settings.cloud.cos.bucket } : {}),
          ...(settings.cloud.cos?.region ? { cosRegion: settings.cloud.cos.region } : {}),
          ...(settings.cloud.cos?.rawBucket ? { cosRawBucket: settings.cloud.cos.rawBucket } : {}),
        },
        recordIdTtlMs: settings.TASK_TTL_DAYS * 86_400_000,
        kek,
        log: runtimeLog,
      });
      await runtime.start();
      metrics.setQueue(runtime.queueLength);
      metrics.setTasks(runtime.tasksByStatus);
      shutdown.add({ name: 'task runtime', run: () => runtime.stop(), onlyRedis: true });
      // The used signatures go by the auto-pipelined connection: one SET per signed call, batched.
      const seen = redisSeenSignatures(conns.reads);
      const auth = settings.apiKeys.length ? appAuth({ keys: settings.apiKeys, seen }) : undefined;
      // Other regions' tasks are asked of their region over the gateway RPC; this region's, of the runtime.
      const regions = new Map<string, TaskGateway>([[settings.REGION, runtime.gateway]]);
      for (const [region, url] of settings.regionEndpoints) regions.set(region, new HttpGateway({ region, url, secret: settings.CLUSTER_SECRET! }));
      const internal = new Hono();
      internal.route('/', runtime.rpcApp);
      internal.route(
        '/',
        createGatewayRpcApp({
          region: settings.REGION,
          secret: settings.CLUSTER_SECRET ?? null,
          gateway: runtime.gateway,
          seen,
          limiter: (perSecond, burst) => redisRateLimiter(conns.reads, perSecond, burst),
          log: runtimeLog,
        }),
      );
      const rateLimit = settings.RATE_LIMIT
        ? edgeRateLimit({
            limiter: redisRateLimiter(conns.reads, settings.RATE_LIMIT, settings.RATE_BURST ?? settings.RATE_LIMIT),
            // The Node adapter's bindings carry the socket.
            clientAddress,
          })
        : undefined;
      const edge = createEdgeApp({
        gateway: new RegionGateway(settings.REGION, regions),
        auth,
        rateLimit,
        urlPolicy: settings.urlPolicy,
        log: log.child({ component: 'edge' }),
        observe: (action, code, seconds) => metrics.request(action, code, seconds),
        metrics: () => metrics.text(),
        console: { mediaOrigins: [settings.PUBLIC_URL] },
        files: { own: settings.REGION, ownIsLocal: true, endpoints: settings.regionEndpoints },
      });
      const http = await startHttpServer(edge, {
        host: settings.HOST,
        port: settings.PORT,
        filesDir: dirs(settings.DATA_DIR).files,
        internal,
        tls: settings.tls ?? undefined,
      });
      shutdown.add({ name: 'http server', run: () => http.close() });
      await runtime.announce();
      // First of the runtime to go: peers take this host's tasks over while it still answers.
      shutdown.add({ name: 'leave the live hosts', run: () => runtime.leave(), onlyRedis: true });
      if (auth) log.info({ keys: settings.apiKeys.map((k) => k.key) }, 'API requests must be signed (application authentication)');
      else log.warn('no API keys are configured (API_KEYS, API_KEYS_FILE): the API is OPEN to anyone who can reach it');
      log.info(
        { url: `${settings.tls ? 'https' : 'http'}://${settings.HOST}:${settings.PORT}`, publicUrl: settings.PUBLIC_URL, internalUrl: settings.INTERNAL_URL, host: runtime.view.selfId },
        'API listening',
      );
    }

    if (settings.ROLE !== 'api') {
      const recorder = new Recorder(
        {
          redis,
          version: VERSION,
          region: settings.REGION,
          recorderId: `rec-${instance}`,
          slots: settings.RECORDER_SLOTS,
          browserPool: settings.BROWSER_POOL,
          recordingCost:
            settings.ADMISSION_CPU_CORES === 'auto'
              ? { cores: FIRST_GUESS_CORES, measured: true, memoryBytes: settings.ADMISSION_MEMORY_MB * 1024 * 1024 }
              : { cores: settings.ADMISSION_CPU_CORES, memoryBytes: settings.ADMISSION_MEMORY_MB * 1024 * 1024 },
          fpsWarningBelow: settings.FPS_WARNING_BELOW,
          dataDir: settings.DATA_DIR,
          publicUrl: settings.PUBLIC_URL,
          chromiumPath: settings.CHROMIUM_PATH,
          chromiumFlags: settings.CHROMIUM_FLAGS.split(/\s+/).filter(Boolean),
          ffmpegPath: settings.FFMPEG_PATH,
          ffprobePath: settings.FFPROBE_PATH,
          storage: settings.cloud,
          marker,
          hlsSegmentSeconds: settings.HLS_SEGMENT_SECONDS,
          kek,
          urlPolicy: settings.urlPolicy,
          minFreeDiskBytes: settings.MIN_FREE_DISK_MB * 1024 * 1024,
          recordingMemoryBytes: settings.RECORDING_MEMORY_MB * 1024 * 1024,
          browserIdentity: resolveBrowserIdentity({ user: settings.BROWSER_USER, noSandbox: settings.CHROMIUM_NO_SANDBOX === '1' }),
          metrics,
        },
        log.child({ component: 'recorder' }),
      );
      await recorder.start();
      metrics.addRecorder({ recordings: () => recorder.activeCount, slotsFree: () => recorder.slotsFree, perRecording: () => recorder.recordingStats() });
      if (settings.ROLE === 'recorder') await listenAsRecorder(settings, recorder, metrics, shutdown, log);
      // The recorder closes its recordings first, while the runtime is still there to take their events.
      shutdown.add({
        name: 'recorder',
        run: async () => {
          await recorder.stop(settings.SHUTDOWN_GRACE_MS);
          if (settings.ROLE === 'all') await new Promise((r) => setTimeout(r, 1500)); // let the event pump deliver the last events
        },
      });
    }
  } catch (err) {
    await shutdown.run();
    throw err;
  }
  return { stop: () => shutdown.run() };
}

/**
 * A recorder-only host answers /healthz and /metrics on PORT, so it can be watched and scraped like
 * any host. Not reachable (PORT taken by another process here): said, and it records all the same.
 */
async function listenAsRecorder(settings: Settings, recorder: Recorder, metrics: Metrics, shutdown: Shutdown, log: Logger): Promise<void> {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true, detail: { role: 'recorder', recordings: recorder.activeCount, slotsFree: recorder.slotsFree } }));
  app.get('/metrics', async (c) => {
    const { contentType, body } = await metrics.text();
    return c.body(body, 200, { 'content-type': contentType });
  });
  try {
    const http = await startHttpServer(app, { host: settings.HOST, port: settings.PORT, filesDir: dirs(settings.DATA_DIR).files, tls: settings.tls ?? undefined });
    shutdown.add({ name: 'http server', run: () => http.close() });
    log.info({ url: `${settings.tls ? 'https' : 'http'}://${settings.HOST}:${settings.PORT}` }, 'recorder health and metrics listening');
  } catch (err) {
    log.warn({ err: String(err), port: settings.PORT }, 'the recorder cannot listen on PORT: no /healthz or /metrics here (set PORT to a free port)');
  }
}

let settings: Settings;
let envFile: string | null = null;
try {
  envFile = loadEnvFile();
  settings = loadSettings();
} catch (err) {
  if (!(err instanceof SettingsError)) throw err;
  process.stderr.write(`webrecord: ${err.message}\n`);
  process.exit(1);
}
const log = createLogger(settings.LOG_LEVEL);
if (envFile) log.info({ envFile }, 'settings read from the environment and an env file');
try {
  const service = await startService(settings, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    service.stop().then(
      () => process.exit(0),
      (err) => {
        log.error({ err: String(err) }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info({ url: settings.PUBLIC_URL, role: settings.ROLE }, 'webrecord is running');
} catch (err) {
  if (err instanceof ClusterSettingError || err instanceof SandboxUnavailable) {
    process.stderr.write(`webrecord: ${err.message}\n`);
    process.exit(1);
  }
  log.fatal({ err: String(err), stack: (err as Error).stack }, 'start-up failed');
  process.exit(1);
}
