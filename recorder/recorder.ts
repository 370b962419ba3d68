// A recorder: takes Start jobs from the region's stream while it has a free slot, runs a Session for
// each, obeys commands from its own stream, and heartbeats. Talks to the runtime only through Redis.
import { DiskGuard } from './disk-guard.js';
import { lockDownDataDir, probeSandbox, profilesDirFor } from './capture/browser-sandbox.js';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { RECORDER_HEARTBEAT_EVERY_MS, RecorderBus, type TakenJob } from '../bus/recorder-bus.js';
import { connectRedis, type RedisClient } from '../lib/redis-connect.js';
import type { RecorderCommand } from '../protocol/recorder.js';
import { whenRedisGone } from '../lib/redis-gone.js';
import { findByEnv, isAlive, killAll, type Marker, sweepMarked } from '../lib/child-process.js';
import type { Logger } from '../lib/logger.js';
import { CaptureServer } from './capture/capture-server.js';
import { RecorderChannel } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import { Recovery } from './recovery.js';
import { Session } from './session.js';
import { HostLoadMeter } from '../lib/host-load.js';
import { admit, type RecordingCost } from './admission.js';
import { CostCalibration } from './cost-calibration.js';
import { RecordingCpu } from './recording-cpu.js';
import { BrowserPool, type BrowserSource, ColdBrowsers } from './capture/browser-pool.js';
import { Destinations } from './storage/destinations.js';
import { LocalStore } from './storage/local.js';
import { type CgroupsOrWhy, openCgroups } from '../lib/cgroups.js';

// Every process a recorder starts carries where it runs from and who started it, so that a
// recorder restarting after a crash can end what its predecessor left, and nothing else.
const HOME = 'WEBRECORD_RECORDER_HOME';
const PID = 'WEBRECORD_RECORDER_PID';
/** A recording younger than this is not yet (fully) in the measured load. */
const WARMUP_MS = 8000;
/** CPU a browser launch takes while it lasts. */
const LAUNCH_CORES = 1;
/** How often the recordings' CPU is read for ADMISSION_CPU_CORES=auto (the host load's window). */
const CALIBRATE_EVERY_MS = 5000;
/** How often a recorder without headroom looks again. */
const RECHECK_MS = 1000;
/** How often the free space under DATA_DIR is read (cheap: a recording can write 10 MB a second). */
const DISK_EVERY_MS = 250;

/** Names a recorder's place (host and DATA_DIR) in the marker of its processes. */
export function recorderHome(dataDir: string): string {
  return createHash('sha256').update(`${hostname()}:${dataDir}`).digest('hex').slice(0, 16);
}

type Work = {
  taskId: string;
  run(): Promise<void>;
  command(type: RecorderCommand['type']): void;
  shutdown(): void;
  fps?(): number | null;
  /** Markers of its processes while it records steadily (a recovery has none). */
  costMarkers?(): Marker[] | null;
  diskFull?(why: string): void;
  warn?(message: string): void;
  writesTo?(): string[];
};

export class Recorder {
  private readonly sessions = new Map<string, { session: Work; attempt: number; done: Promise<void>; since: number; cpu: RecordingCpu; scrapeCpu: RecordingCpu }>();
  private readonly cost: CostCalibration;
  private calibrateTimer: NodeJS.Timeout | null = null;
  private readonly load = new HostLoadMeter();
  private readonly browsers: BrowserSource;
  private waitingWhy = '';
  private running = false;
  private loops: Promise<void>[] = [];
  private slotFreed: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private diskTimer: NodeJS.Timeout | null = null;
  private readonly disk: DiskGuard;
  private readonly conns: RedisClient[];
  private readonly channel: RecorderChannel;
  private readonly captureServer = new CaptureServer();
  private readonly destinations: Destinations;
  private readonly log: Logger;

  private readonly config: RecorderConfig;
  private readonly home: string;
  /** Each recording browser's cgroup is made here (or why none can be). */
  private readonly cgroups: CgroupsOrWhy;

  constructor(config: RecorderConfig, log: Logger) {
    this.home = recorderHome(config.dataDir);
    this.config = { ...config, marker: { ...config.marker, [HOME]: this.home, [PID]: String(process.pid) } };
    this.log = log.child({ recorderId: config.recorderId });
    const d = dirs(config.dataDir);
    this.disk = new DiskGuard(config.dataDir, config.minFreeDiskBytes, this.log, [d.cfs, d.tmp, d.files]);
    const opts = { maxRetriesPerRequest: null, lazyConnect: true } as const;
    this.conns = [connectRedis(config.redis, opts), connectRedis(config.redis, opts), connectRedis(config.redis, opts)];
    for (const c of this.conns) c.on('error', (err) => this.log.debug({ err: String(err) }, 'redis connection error'));
    const [main, jobs, commands] = this.conns as [RedisClient, RedisClient, RedisClient];
    this.channel = new RecorderChannel(new RecorderBus(main, config.region), jobs, commands, config.recorderId, this.log);
    this.destinations = new Destinations(new LocalStore(dirs(config.dataDir).files, config.publicUrl), config.storage, this.log);
    const c = this.config;
    this.cgroups = openCgroups({ memoryBytes: c.recordingMemoryBytes });
    this.cost = new CostCalibration(c.recordingCost.cores, !c.recordingCost.measured);
    this.browsers =
      c.browserPool > 0
        ? new BrowserPool(
            c.browserPool,
            {
              chromiumPath: c.chromiumPath,
              extraFlags: c.chromiumFlags,
              tmpDir: profilesDirFor(c.dataDir, c.browserIdentity),
              marker: c.marker,
              identity: c.browserIdentity,
              egress: { policy: c.urlPolicy, exempt: () => [this.captureServer.hostPort] },
              cgroups: this.cgroups.cgroups,
            },
            this.log,
            () => this.mayLaunchWarm(),
          )
        : new ColdBrowsers();
  }

  get activeCount(): number {
    return this.sessions.size;
  }

  get slotsFree(): number {
    return Math.max(0, this.config.slots - this.sessions.size);
  }

  /** Each recording's frame rate, and its CPU since the last call (null the first time): the metrics' scrape. */
  recordingStats(): { taskId: string; fps: number | null; cpuCores: number | null }[] {
    return [...this.sessions].map(([taskId, e]) => {
      const markers = e.session.costMarkers?.() ?? null;
      if (!markers) e.scrapeCpu.reset();
      return { taskId, fps: e.session.fps?.() ?? null, cpuCores: markers ? e.scrapeCpu.read(markers) : null };
    });
  }

  async start(): Promise<void> {
    const d = dirs(this.config.dataDir);
    await Promise.all([mkdir(d.cfs, { recursive: true }), mkdir(d.tmp, { recursive: true }), mkdir(d.files, { recursive: true })]);
    const identity = this.config.browserIdentity;
    const profiles = profilesDirFor(this.config.dataDir, identity);
    await mkdir(profiles, { recursive: true });
    if (identity.mode === 'user') await lockDownDataDir(this.config.dataDir, profiles);
    // Refuses to record when the sandbox cannot start, rather than record without it.
    await probeSandbox(this.config.chromiumPath, identity, profiles);
    if (identity.mode === 'none') this.log.warn("CHROMIUM_NO_SANDBOX=1: recorded pages run WITHOUT Chromium's sandbox, as this process's user: a page that exploits its renderer owns this machine");
    else this.log.info({ user: identity.mode === 'user' ? identity.name : 'self' }, 'browsers run sandboxed');
    this.endLeftovers();
    if (this.cgroups.cgroups) {
      const { version, parents } = this.cgroups.cgroups;
      const stale = this.cgroups.cgroups.sweepStale();
      this.log.info(
        { cgroup: version, in: parents, memoryMb: Math.round(this.config.recordingMemoryBytes / 1048576), stale },
        'each recording browser runs in its own cgroup (its memory capped by RECORDING_MEMORY_MB)',
      );
    } else {
      this.log.warn({ why: this.cgroups.why }, 'no cgroup can be made here: RECORDING_MEMORY_MB is not enforced (a page that eats memory is stopped only by the kernel running out)');
    }
    this.load.start();
    await Promise.all(this.conns.map((c) => c.connect()));
    await this.channel.init();
    await this.captureServer.start();
    this.running = true;
    await this.beat();
    await this.disk.tick([]);
    this.diskTimer = setInterval(() => void this.disk.tick([...this.sessions.values()].map((e) => e.session)), DISK_EVERY_MS);
    this.heartbeatTimer = setInterval(() => void this.beat(), RECORDER_HEARTBEAT_EVERY_MS);
    if (this.config.recordingCost.measured) this.calibrateTimer = setInterval(() => this.calibrate(), CALIBRATE_EVERY_MS);
    this.loops = [this.takeJobs(), this.takeCommands()];
    if (this.browsers instanceof BrowserPool) this.browsers.start();
    this.log.info({ slots: this.config.slots, browserPool: this.config.browserPool, cores: this.load.cores }, 'recorder ready');
  }

  /**
   * Stops taking jobs, closes every running recording (each is finished and reported with what it
   * holds), and ends every process this recorder started.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.slotFreed?.();
    const pool = this.browsers.stop();
    for (const { session } of this.sessions.values()) session.shutdown();
    // Without Redis the recordings still finish their files; only their events stop waiting for it.
    const redis = whenRedisGone(this.conns[0]!);
    void redis.gone.then(() => {
      this.log.warn('Redis is unreachable: recordings finish unreported; their intermediate files stay for recovery');
      this.channel.abandonEvents();
    });
    const all = Promise.allSettled([...this.sessions.values()].map((s) => s.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs))]);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.diskTimer) clearInterval(this.diskTimer);
    if (this.calibrateTimer) clearInterval(this.calibrateTimer);
    for (const c of this.conns.slice(1)) c.disconnect(); // unblocks the blocking reads (when Redis is there)
    await pool;
    await Promise.race([Promise.allSettled(this.loops), redis.gone]);
    redis.cancel();
    this.load.stop();
    // Redis may be gone already (killed with us): do not wait for it.
    await Promise.race([this.channel.leave(), new Promise((r) => setTimeout(r, 2000))]);
    this.conns[0]!.disconnect();
    await this.captureServer.stop();
    sweepMarked(this.config.marker);
  }

  /** Ends the processes (browsers, ffmpeg) of an earlier recorder here that died without ending them. */
  private endLeftovers(): void {
    const orphans = findByEnv((env) => {
      const pid = Number(env.get(PID));
      return env.get(HOME) === this.home && pid !== process.pid && !isAlive(pid);
    });
    if (orphans.length) this.log.warn({ count: killAll(orphans) }, 'ended processes left by a recorder that crashed');
  }

  private async takeJobs(): Promise<void> {
    while (this.running) {
      await this.disk.read();
      const admission = this.admission();
      if (!admission.take) {
        if (admission.why !== this.waitingWhy) this.log.debug({ why: admission.why, active: this.sessions.size }, 'not taking Start jobs for now');
        this.waitingWhy = admission.why;
        // Woken by a recording ending, or a second later to measure again.
        await new Promise<void>((r) => {
          this.slotFreed = r;
          setTimeout(r, RECHECK_MS);
        });
        this.slotFreed = null;
        continue;
      }
      this.waitingWhy = '';
      let job: TakenJob | null;
      try {
        job = await this.channel.nextJob(1000);
      } catch (err) {
        if (!this.running) return;
        this.log.warn({ err: String(err) }, 'reading Start jobs failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!job) continue;
      // The disk may have filled while the read waited: the job stays ours, read again once there is room.
      await this.disk.read();
      if (this.disk.tooFull) {
        this.channel.giveBack();
        continue;
      }
      await this.run(job);
    }
  }

  /**
   * A warm browser's launch takes about a core for a second or two: it waits until the recordings
   * running here leave that much idle (on a small machine, until they end) rather than cost them frames.
   */
  private mayLaunchWarm(): boolean {
    const load = this.load.now();
    const cost = this.recordingCost();
    if (load.availableMemoryBytes < cost.memoryBytes) return false;
    const idleCores = load.cores - load.busyCores - this.startingCount() * cost.cores;
    return this.sessions.size === 0 || idleCores >= cost.cores + LAUNCH_CORES;
  }

  /** Recordings started too recently for the measured load to show them yet. */
  private startingCount(): number {
    const now = Date.now();
    return [...this.sessions.values()].filter((e) => now - e.since < WARMUP_MS).length;
  }

  private admission() {
    return admit({
      load: this.load.now(),
      active: this.sessions.size,
      starting: this.startingCount(),
      slots: this.config.slots,
      cost: this.recordingCost(),
      peers: this.channel.livePeers(),
      disk: { free: this.disk.free, minFree: this.config.minFreeDiskBytes, where: this.disk.where },
    });
  }

  private recordingCost(): RecordingCost {
    return { ...this.config.recordingCost, cores: this.cost.cores };
  }

  /** Learns what a recording costs here from the ones recording steadily now (ADMISSION_CPU_CORES=auto). */
  private calibrate(): void {
    const load = this.load.now();
    for (const [taskId, entry] of this.sessions) {
      const markers = entry.session.costMarkers?.() ?? null;
      if (!markers) {
        entry.cpu.reset();
        continue;
      }
      const cores = entry.cpu.read(markers);
      if (cores === null) continue;
      const before = this.cost.cores;
      if (this.cost.observe({ cores, hostCores: load.cores, hostBusyCores: load.busyCores })) {
        const log = this.cost.samples === 1 || Math.abs(this.cost.cores - before) > 0.05 ? 'info' : 'debug';
        this.log[log]({ taskId, measuredCores: +cores.toFixed(3), recordingCores: this.cost.cores }, 'recording cost measured');
      }
    }
  }

  private async run(taken: TakenJob): Promise<void> {
    const { job } = taken;
    if (this.sessions.has(job.TaskID)) {
      // A duplicate of a job already running here.
      await taken.ack().catch(() => undefined);
      return;
    }
    const events = this.channel.eventsFor(job.TaskID, job.attempt);
    const session: Work =
      job.mode === 'recover'
        ? new Recovery(job, { config: this.config, events, destinations: this.destinations, marker: this.config.marker, log: this.log })
        : new Session(job, { config: this.config, events, captureServer: this.captureServer, destinations: this.destinations, browsers: this.browsers, cgroups: this.cgroups.cgroups, log: this.log });
    // Registered first: a command may follow the `accepted` event at once.
    const entry = { session, attempt: job.attempt, done: Promise.resolve(), since: Date.now(), cpu: new RecordingCpu(), scrapeCpu: new RecordingCpu() };
    this.sessions.set(job.TaskID, entry);
    // The job is taken durably once the task can hear of it: only then is it acknowledged, so a
    // recorder that dies before this point leaves the job to another (see the bus's rules).
    if (!(await events.emit({ type: 'accepted' }))) {
      this.sessions.delete(job.TaskID);
      this.log.warn({ taskId: job.TaskID }, 'could not report taking the job; leaving it for later');
      this.channel.giveBack();
      return;
    }
    await taken.ack().catch((err) => this.log.warn({ taskId: job.TaskID, err: String(err) }, 'job not acknowledged; a duplicate will be told to stop'));
    this.log.info({ taskId: job.TaskID, attempt: job.attempt, mode: job.mode, url: job.request.RecordURL }, 'job accepted');
    entry.done = session.run().finally(() => {
      this.sessions.delete(job.TaskID);
      this.slotFreed?.();
      if (this.browsers instanceof BrowserPool) this.browsers.refill();
      void this.beat();
    });
  }

  private async takeCommands(): Promise<void> {
    while (this.running || this.sessions.size) {
      let commands: RecorderCommand[];
      try {
        commands = await this.channel.nextCommands(1000);
      } catch (err) {
        if (!this.running) return;
        this.log.warn({ err: String(err) }, 'reading commands failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      for (const c of commands) {
        const entry = this.sessions.get(c.TaskID);
        if (entry && entry.attempt === c.attempt) entry.session.command(c.type);
        else this.log.debug({ taskId: c.TaskID, type: c.type }, 'command for a task not held here');
      }
    }
  }

  private async beat(): Promise<void> {
    try {
      const load = this.load.now();
      await this.channel.heartbeat({
        recorderId: this.config.recorderId,
        version: this.config.version,
        slots: this.config.slots,
        active: this.sessions.size,
        accepting: this.running && this.admission().take,
        recordingCores: this.cost.cores,
        cores: load.cores,
        busyCores: load.busyCores,
        availableMemoryBytes: load.availableMemoryBytes,
        at: Date.now(),
      });
    } catch (err) {
      this.log.warn({ err: String(err) }, 'heartbeat failed');
    }
  }
}
