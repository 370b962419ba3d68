// A recorder: takes Start jobs from the region's stream while it has a free slot, runs a Session for
// each, obeys commands from its own stream, and heartbeats. Talks to the runtime only through Redis.
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { RecorderCommand, StartJob } from '../protocol/recorder.js';
import { sweepMarked } from '../lib/child-process.js';
import type { Logger } from '../lib/logger.js';
import { CaptureServer } from './capture/capture-server.js';
import { RecorderChannel } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import { Session } from './session.js';
import { LocalStorage } from './storage/local.js';

const HEARTBEAT_EVERY_MS = 2000;
const HEARTBEAT_TTL_MS = 6000;

export class Recorder {
  private readonly sessions = new Map<string, { session: Session; done: Promise<void> }>();
  private running = false;
  private loops: Promise<void>[] = [];
  private slotFreed: (() => void) | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly conns: Redis[];
  private readonly channel: RecorderChannel;
  private readonly captureServer = new CaptureServer();
  private readonly storage: LocalStorage;
  private readonly log: Logger;

  constructor(
    private readonly config: RecorderConfig,
    log: Logger,
  ) {
    this.log = log.child({ recorderId: config.recorderId });
    const opts = { maxRetriesPerRequest: null, lazyConnect: true } as const;
    this.conns = [new Redis(config.redisUrl, opts), new Redis(config.redisUrl, opts), new Redis(config.redisUrl, opts)];
    for (const c of this.conns) c.on('error', (err) => this.log.debug({ err: String(err) }, 'redis connection error'));
    const [main, jobs, commands] = this.conns as [Redis, Redis, Redis];
    this.channel = new RecorderChannel(main, jobs, commands, config.region, config.recorderId, this.log);
    this.storage = new LocalStorage(dirs(config.dataDir).files, config.publicUrl);
  }

  get activeCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    const d = dirs(this.config.dataDir);
    await Promise.all([mkdir(d.cfs, { recursive: true }), mkdir(d.tmp, { recursive: true }), mkdir(d.files, { recursive: true })]);
    await Promise.all(this.conns.map((c) => c.connect()));
    await this.channel.init();
    await this.captureServer.start();
    this.running = true;
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), HEARTBEAT_EVERY_MS);
    this.loops = [this.takeJobs(), this.takeCommands()];
    this.log.info({ slots: this.config.slots }, 'recorder ready');
  }

  /**
   * Stops taking jobs, closes every running recording (each is finished and reported with what it
   * holds), and ends every process this recorder started.
   */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.slotFreed?.();
    for (const { session } of this.sessions.values()) session.shutdown();
    const all = Promise.allSettled([...this.sessions.values()].map((s) => s.done));
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs))]);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const c of this.conns.slice(1)) c.disconnect(); // unblocks the blocking reads
    await Promise.allSettled(this.loops);
    await this.channel.clearHeartbeat().catch(() => undefined);
    this.conns[0]!.disconnect();
    await this.captureServer.stop();
    sweepMarked(this.config.marker);
  }

  private async takeJobs(): Promise<void> {
    while (this.running) {
      if (this.sessions.size >= this.config.slots) {
        await new Promise<void>((r) => (this.slotFreed = r));
        this.slotFreed = null;
        continue;
      }
      let job: StartJob | null;
      try {
        job = await this.channel.nextJob(1000);
      } catch (err) {
        if (!this.running) return;
        this.log.warn({ err: String(err) }, 'reading Start jobs failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (job) await this.run(job);
    }
  }

  private async run(job: StartJob): Promise<void> {
    if (this.sessions.has(job.TaskID)) return; // a duplicate of a job already running here
    const events = this.channel.eventsFor(job.TaskID, job.attempt);
    const session = new Session(job, {
      config: this.config,
      events,
      captureServer: this.captureServer,
      storage: this.storage,
      log: this.log,
    });
    const entry = { session, done: Promise.resolve() };
    this.sessions.set(job.TaskID, entry);
    await events.emit({ type: 'accepted' });
    this.log.info({ taskId: job.TaskID, url: job.request.RecordURL }, 'recording accepted');
    entry.done = session.run().finally(() => {
      this.sessions.delete(job.TaskID);
      this.slotFreed?.();
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
        if (entry) entry.session.command(c.type);
        else this.log.debug({ taskId: c.TaskID, type: c.type }, 'command for a task not held here');
      }
    }
  }

  private async beat(): Promise<void> {
    try {
      await this.channel.heartbeat(
        { slots: this.config.slots, active: this.sessions.size, at: Date.now() },
        HEARTBEAT_TTL_MS,
      );
    } catch (err) {
      this.log.warn({ err: String(err) }, 'heartbeat failed');
    }
  }
}
