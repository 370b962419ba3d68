// One runtime host for tasks: the generic actor host running TaskActors, placed and routed among the
// region's live hosts, with the task's own parts around it (recorder events, recorder watch, webhook,
// the gateway the edge calls). Built from connections and settings by main.ts; taken down in phases,
// so that peers stop routing here before this host lets its tasks go.
import type { Hono } from 'hono';
import type { ActorConfig, Effect } from '../actors/task-actor.js';
import type { StoredRequest } from '../protocol/api.js';
import type { TaskMessage, TaskReply } from '../protocol/task-messages.js';
import type { TaskRecord } from '../protocol/task.js';
import { RecorderBus } from '../bus/recorder-bus.js';
import type { Logger } from '../lib/logger.js';
import type { RedisClient } from '../lib/redis-connect.js';
import type { TaskGateway } from '../protocol/gateway.js';
import { secretFingerprint } from '../protocol/rpc-signature.js';
import { newTaskId } from '../protocol/region.js';
import { ActorHost } from '../wrangler-free-runtime/actor-host.js';
import { ActorListing } from '../wrangler-free-runtime/actor-listing.js';
import { ActorStore } from '../wrangler-free-runtime/actor-store.js';
import { AlarmPoller } from '../wrangler-free-runtime/alarm-poller.js';
import { Leases } from '../wrangler-free-runtime/lease.js';
import { HostView } from '../wrangler-free-runtime/placement/host-view.js';
import { Router } from '../wrangler-free-runtime/placement/router.js';
import { RpcClient } from '../wrangler-free-runtime/rpc/client.js';
import { createRpcApp } from '../wrangler-free-runtime/rpc/server.js';
import { ShardIndexes } from '../wrangler-free-runtime/shard-indexes.js';
import type { UrlPolicy } from '../protocol/url-policy.js';
import { CallbackSender } from './callback-sender.js';
import { EventPump } from './event-pump.js';
import { type Capabilities, RuntimeGateway } from './gateway.js';
import { RecorderWatch } from './recorder-watch.js';
import { TaskEffects } from './task-effects.js';
import { taskKind } from './task-kind.js';

export type TaskRuntimeOptions = {
  /** `main` for scripts and writes, `blocking` for the event stream's blocking reads, `reads` auto-pipelined for Describe. */
  redis: { main: RedisClient; blocking: RedisClient; reads: RedisClient };
  hostId: string;
  region: string;
  /** How peers reach this host (INTERNAL_URL). */
  internalUrl: string;
  version: string;
  /** Null: this host runs alone on its Redis and takes no internal calls. */
  clusterSecret: string | null;
  leaseTtlMs: number;
  finishedTtlMs: number;
  actor: ActorConfig;
  callbackSecret?: string;
  callbackTimeoutMs: number;
  /** Unfinished tasks the deployment takes at most (MAX_TASKS; 0 or absent: no cap). */
  maxTasks?: number;
  /** Where callbacks may connect (API.md "URL policy"). */
  urlPolicy?: UrlPolicy;
  capabilities: Capabilities;
  /** Told of each callback try's outcome (the host's metrics). */
  onCallback?: (delivered: boolean) => void;
  recordIdTtlMs: number;
  kek: Buffer;
  log: Logger;
  /** Tests: idle time before a task sleeps. */
  sleepAfterMs?: number;
};

export class ClusterSettingError extends Error {}

export class TaskRuntime {
  readonly gateway: TaskGateway;
  /** The internal RPC endpoint, for the Node adapter to mount. */
  readonly rpcApp: Hono;
  readonly host: ActorHost<TaskRecord, StoredRequest, TaskMessage, TaskReply, Effect>;
  readonly view: HostView;
  private readonly router: Router<TaskRecord, StoredRequest, TaskMessage, TaskReply, Effect>;
  private readonly pump: EventPump;
  private readonly alarms: AlarmPoller;
  private readonly watch: RecorderWatch;
  /** The region's Start queue (for the metrics). */
  readonly queueLength: () => Promise<{ waiting: number | null; taken: number }>;
  /** Unfinished tasks by status, the region's. */
  readonly tasksByStatus: () => Promise<Map<string, number>>;

  constructor(
    private readonly o: TaskRuntimeOptions,
    clusterKey: string | null,
  ) {
    const { redis, log } = o;
    const kind = taskKind(o.actor, o.sleepAfterMs);
    const store = new ActorStore(redis.main, o.finishedTtlMs, redis.reads);
    const indexes = new ShardIndexes(redis.main);
    const bus = new RecorderBus(redis.main, o.region);
    this.queueLength = () => bus.queueLength();
    this.tasksByStatus = () => indexes.groupCounts();
    const tell = (id: string, m: TaskMessage) => this.router.send(id, m);
    const effects = new TaskEffects({ bus, callbacks: new CallbackSender(o.callbackSecret, o.callbackTimeoutMs, o.urlPolicy), tell, log, ...(o.onCallback ? { onCallback: o.onCallback } : {}) });
    this.host = new ActorHost({ kind, store, leases: new Leases(redis.main, o.hostId, o.leaseTtlMs), perform: (id, e) => effects.perform(id, e), log });
    this.view = new HostView(
      redis.main,
      { id: o.hostId, url: o.internalUrl, region: o.region, version: o.version, startedAt: Date.now(), clusterKey },
      { ttlMs: o.leaseTtlMs, actors: () => this.host.activeCount, log },
    );
    const rpc = o.clusterSecret ? new RpcClient(o.clusterSecret, o.leaseTtlMs + 5000) : null;
    this.router = new Router({ view: this.view, host: this.host, kind, rpc, leaseTtlMs: o.leaseTtlMs, log });
    // Tasks of shards that moved to another host are let go as soon as they are idle.
    this.view.onChange(() => this.host.release((id) => this.view.ownerOf(id) !== this.view.selfId));
    this.rpcApp = createRpcApp({ self: o.hostId, secret: o.clusterSecret, handle: (call) => this.router.receive(call), log });
    this.pump = new EventPump({ reader: bus.eventReader(o.hostId, log), blocking: redis.blocking, tell, isLive: (id) => this.view.isLive(id), log });
    this.alarms = new AlarmPoller({ indexes, view: this.view, deliver: (id) => this.router.send(id, kind.alarm), log });
    this.watch = new RecorderWatch({ indexes, view: this.view, recorders: bus.recorders, tell, log });
    this.gateway = new RuntimeGateway({
      redis: redis.main,
      routes: this.router,
      store,
      listing: new ActorListing(redis.main, indexes),
      bus,
      view: this.view,
      activeTasks: () => this.host.activeCount,
      capabilities: o.capabilities,
      recordIdTtlMs: o.recordIdTtlMs,
      kek: o.kek,
      maxTasks: o.maxTasks,
      newTaskId: () => newTaskId(o.region),
    });
  }

  /**
   * Builds the runtime after checking that this host may share its Redis with the hosts already
   * there. A host that just died still counts as live for one lease TTL, so a problem is only final
   * once it has lasted that long (a restart after a crash must not be refused).
   */
  static async create(o: TaskRuntimeOptions & { sharedRedis: boolean }): Promise<TaskRuntime> {
    const clusterKey = o.clusterSecret ? await secretFingerprint(o.clusterSecret) : null;
    const runtime = new TaskRuntime(o, clusterKey);
    if (!o.sharedRedis) return runtime; // the embedded default's private redis-server: nobody else
    const deadline = Date.now() + o.leaseTtlMs + 1000;
    for (;;) {
      const peers = await runtime.view.peers();
      const problem = !peers.length
        ? null
        : !o.clusterSecret
          ? `setting CLUSTER_SECRET is required: ${peers.length} other host(s) share this Redis in region ${o.region} (${peers.map((p) => p.url).join(', ')})`
          : peers.filter((p) => p.clusterKey !== clusterKey).map((p) => `setting CLUSTER_SECRET differs from the one of host ${p.id} at ${p.url} (each host of a region needs the same)`)[0];
      if (!problem) return runtime;
      if (Date.now() >= deadline) throw new ClusterSettingError(problem);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** Starts the work that needs no peers; `announce` once the HTTP server answers. */
  async start(): Promise<void> {
    // Poll only the shards that are ours among the hosts already there, not all of them.
    await this.view.load();
    this.host.start();
    await this.pump.start();
    this.alarms.start();
    this.watch.start();
  }

  /** Joins the region's live hosts: from now on peers route this host's shards here. */
  announce(): Promise<void> {
    return this.view.start();
  }

  /** Leaves the live hosts and turns forwarded calls away, so peers take over this host's shards. */
  async leave(): Promise<void> {
    this.router.stop();
    await this.view.stop();
  }

  /** Stops reading events and alarms and hands every task's lease back. */
  async stop(): Promise<void> {
    this.alarms.stop();
    this.watch.stop();
    await this.pump.stop();
    await this.host.stop();
  }
}
