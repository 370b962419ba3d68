// The composition root: builds the runtime, the edge and (for ROLE all/recorder) a recorder from
// the settings, and takes them down in order.
import { hostname } from 'node:os';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import { loadKek } from '../lib/key-wrap.js';
import { whenRedisGone } from '../lib/redis-gone.js';
import type { Logger } from '../lib/logger.js';
import type { TaskGateway } from '../protocol/gateway.js';
import { dirs } from '../recorder/config.js';
import { FIRST_GUESS_CORES } from '../recorder/cost-calibration.js';
import { Recorder } from '../recorder/recorder.js';
import { ActorHost } from './actor-host.js';
import { AlarmPoller } from './alarm-poller.js';
import { Assignments } from './assignments.js';
import { Alarms } from './alarms.js';
import { CallbackSender } from './callback-sender.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.js';
import { EventPump } from './event-pump.js';
import { RuntimeGateway } from './gateway.js';
import { startHttpServer, type HttpServer } from './http-server.js';
import { Leases } from './lease.js';
import { RecorderLink } from './recorder-link.js';
import { RecorderWatch } from './recorder-watch.js';
import { withScripts } from './redis/scripts.js';
import type { Settings } from './settings.js';
import { TaskStore } from './task-store.js';

export type Service = { url: string; stop(): Promise<void> };

/** Builds the HTTP app for a gateway: the edge, handed in by the entry point (the runtime does not import it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AppFactory = (gateway: TaskGateway, log: Logger) => Hono<any>;

export async function startService(settings: Settings, log: Logger, createApp: AppFactory): Promise<Service> {
  const instance = `${hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const marker = { WEBRECORD_INSTANCE: instance };
  // Run in reverse order of start. A step that only waits on Redis is cut short once Redis is gone.
  const stops: { name: string; run: () => Promise<void>; onlyRedis?: boolean }[] = [];
  let runtimeRedis: Redis | null = null;
  const stopAll = async () => {
    // Each step is bounded: a step that waits on something already gone (Redis killed with us, say)
    // must not keep the service from ending.
    const redis = runtimeRedis ? whenRedisGone(runtimeRedis) : null;
    void redis?.gone.then(() => log.warn('Redis is unreachable: shutting down without it'));
    const limit = settings.SHUTDOWN_GRACE_MS + 10_000;
    for (const { name, run, onlyRedis } of stops.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), limit)));
      const gone = onlyRedis && redis ? redis.gone.then(() => 'gone' as const) : late;
      const t0 = performance.now();
      const outcome = await Promise.race([run().catch((err) => log.error({ step: name, err: String(err) }, 'stopping failed')), late, gone]);
      clearTimeout(timer);
      if (outcome === 'late') log.error({ step: name, limitMs: limit }, 'a shutdown step did not end in time; going on without it');
      else log.debug({ step: name, ms: Math.round(performance.now() - t0), ...(outcome === 'gone' ? { cut: 'Redis gone' } : {}) }, 'stopped');
    }
    redis?.cancel();
  };

  try {
    const kek = loadKek(settings.KEY_WRAP_SECRET, dirs(settings.DATA_DIR).kek);
    let redisUrl = settings.REDIS_URL;
    let embedded: EmbeddedRedis | null = null;
    if (!redisUrl) {
      embedded = await startEmbeddedRedis(settings.DATA_DIR, log.child({ component: 'redis' }));
      redisUrl = embedded.url;
      stops.push({ name: 'embedded redis', run: () => embedded!.stop() });
    }

    if (settings.ROLE !== 'recorder') {
      const redis = withScripts(new Redis(redisUrl, { maxRetriesPerRequest: 3 }));
      const blocking = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const reads = new Redis(redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
      runtimeRedis = redis;
      for (const c of [redis, blocking, reads]) c.on('error', (err) => log.debug({ err: String(err) }, 'redis connection error'));
      stops.push({
        name: 'redis connections',
        run: async () => {
          for (const c of [redis, blocking, reads]) c.disconnect();
        },
      });
      const hostLog = log.child({ component: 'runtime' });
      const store = new TaskStore(redis, settings.TASK_TTL_DAYS * 86_400_000, reads);
      const alarms = new Alarms(redis, settings.REGION);
      const assignments = new Assignments(redis, settings.REGION);
      const link = new RecorderLink(redis, settings.REGION);
      const callbacks = new CallbackSender(settings.CALLBACK_SECRET, settings.CALLBACK_TIMEOUT_MS);
      const host = new ActorHost({
        store,
        leases: new Leases(redis, `host-${instance}`, settings.LEASE_TTL_MS),
        alarms,
        assignments,
        ports: {
          enqueueStart: (job) => link.enqueueStart(job),
          commandRecorder: (id, command) => link.commandRecorder(id, command),
          deliverCallback: (effect) => callbacks.deliver(effect),
        },
        config: {
          callback: {
            maxTries: settings.CALLBACK_MAX_TRIES,
            firstRetryDelayMs: settings.CALLBACK_FIRST_RETRY_MS,
            timeoutMs: settings.CALLBACK_TIMEOUT_MS,
            watchdogSlackMs: 5000,
          },
        },
        log: hostLog,
      });
      host.start();
      stops.push({ name: 'actor host', run: () => host.stop(), onlyRedis: true });
      const pump = new EventPump(redis, blocking, host, settings.REGION, `host-${instance}`, hostLog);
      await pump.start();
      stops.push({ name: 'event pump', run: () => pump.stop(), onlyRedis: true });
      const poller = new AlarmPoller(alarms, host, hostLog);
      poller.start();
      stops.push({ name: 'alarm poller', run: async () => poller.stop() });
      const watch = new RecorderWatch(redis, assignments, host, settings.REGION, hostLog);
      watch.start();
      stops.push({ name: 'recorder watch', run: async () => watch.stop() });

      const gateway = new RuntimeGateway({
        redis,
        host,
        store,
        link,
        capabilities: { cos: false, vod: false },
        recordIdTtlMs: settings.TASK_TTL_DAYS * 86_400_000,
        kek,
      });
      const edge = createApp(gateway, log.child({ component: 'edge' }));
      const http: HttpServer = await startHttpServer(edge, {
        host: settings.HOST,
        port: settings.PORT,
        filesDir: dirs(settings.DATA_DIR).files,
      });
      stops.push({ name: 'http server', run: () => http.close() });
      log.warn('no API keys are configured: the API is open to anyone who can reach it');
      log.info({ url: `http://${settings.HOST}:${settings.PORT}`, publicUrl: settings.PUBLIC_URL }, 'API listening');
    }

    if (settings.ROLE !== 'api') {
      const recorder = new Recorder(
        {
          redisUrl,
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
          marker,
          hlsSegmentSeconds: settings.HLS_SEGMENT_SECONDS,
          kek,
        },
        log.child({ component: 'recorder' }),
      );
      await recorder.start();
      // The recorder closes its recordings first, while the runtime is still there to take their events.
      stops.push({
        name: 'recorder',
        run: async () => {
          await recorder.stop(settings.SHUTDOWN_GRACE_MS);
          await new Promise((r) => setTimeout(r, 1500)); // let the event pump deliver the last events
        },
      });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { url: settings.PUBLIC_URL, stop: stopAll };
}
