// The TaskGateway the edge talks to: Start and commands go to the task's actor wherever it runs (the
// router), Describe reads the stored task on whichever host was asked, without waking anyone, and so
// do ListTasks (the shards' listings) and DescribeRecorders (the recorders' registry).
import type { RecorderBus } from '../bus/recorder-bus.js';
import { seal } from '../lib/key-wrap.js';
import { isRedisUnavailable, type RedisClient } from '../lib/redis-connect.js';
import type { StartRequest, StoredRequest, TaskCommand } from '../protocol/api.js';
import { type RecorderView, recorderView, type TaskQuery } from '../protocol/listing.js';
import { type CommandOutcome, type Health, ServiceUnavailableError, type StartOutcome, type TaskGateway } from '../protocol/gateway.js';
import { keys } from '../protocol/keys.js';
import { rawPlaceOf } from '../protocol/raw-place.js';
import type { TaskMessage, TaskReply } from '../protocol/task-messages.js';
import { toDescribe, type DescribeView, TaskViewSource } from '../protocol/task.js';
import type { ActorListing } from '../wrangler-free-runtime/actor-listing.js';
import type { ActorStore } from '../wrangler-free-runtime/actor-store.js';
import type { HostView } from '../wrangler-free-runtime/placement/host-view.js';
import { ActorUnavailable } from '../wrangler-free-runtime/rpc/messages.js';

export type Capabilities = {
  /** Which outputs this deployment can write; a Start asking for another is refused up front. */
  cos: boolean;
  vod: boolean;
  /** The deployment's default bucket and region (COS_BUCKET, COS_REGION), if any. */
  cosBucket?: string;
  cosRegion?: string;
  /** Where StorageType "cos" keeps intermediate recordings (COS_BUCKET_RAW), if set. */
  cosRawBucket?: string;
};

/** How the gateway reaches tasks: the router, or anything that delivers like it. */
export type TaskRoutes = {
  create(taskId: string, request: StoredRequest): Promise<TaskReply>;
  send(taskId: string, message: TaskMessage): Promise<TaskReply | null>;
};

const STORE_AWAY = 'the task store cannot be reached right now; try again in a moment';

/** How long a Describe may wait for the store in all, retries included (API.md: within 1 s). */
export const API_DEADLINE_MS = 900;

/**
 * A store that cannot be reached is a 503 to the caller, never an InternalError nor a wait: each
 * command has its own timeout and a bounded number of tries (lib/redis-connect.ts). A read has a
 * deadline over the whole call too; a change has not: one answered 503 and then done in the
 * background would be a Pause the client was told did not happen.
 */
async function orUnavailable<T>(run: () => Promise<T>, deadlineMs?: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (deadlineMs !== undefined) timer = setTimeout(() => reject(new ServiceUnavailableError(STORE_AWAY)), deadlineMs);
  });
  const work = run();
  // What it comes to after the deadline is nobody's answer (a late failure must not go unhandled).
  work.catch(() => undefined);
  try {
    return await Promise.race([work, deadline]);
  } catch (err) {
    if (isRedisUnavailable(err)) throw new ServiceUnavailableError(STORE_AWAY);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export class RuntimeGateway implements TaskGateway {
  constructor(
    private readonly d: {
      redis: RedisClient;
      routes: TaskRoutes;
      store: ActorStore;
      listing: ActorListing;
      bus: RecorderBus;
      view: HostView;
      activeTasks(): number;
      capabilities: Capabilities;
      recordIdTtlMs: number;
      /** Seals HLS keys before anything is stored. */
      kek: Buffer;
      /** Unfinished tasks the deployment takes at most (0: no cap). */
      maxTasks?: number;
      newTaskId?: () => string;
      /** Describe's deadline: API_DEADLINE_MS unless told. */
      deadlineMs?: number;
    },
  ) {}

  start(request: StartRequest): Promise<StartOutcome> {
    return orUnavailable(() => this.startTask(request));
  }

  command(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    return orUnavailable(() => this.commandTask(taskId, command));
  }

  describe(taskId: string): Promise<DescribeView | null> {
    return orUnavailable(async () => {
      const raw = await this.d.store.getView(taskId);
      return raw === null ? null : toDescribe(TaskViewSource.parse(raw));
    }, this.deadline);
  }

  listTasks(query: TaskQuery): Promise<DescribeView[]> {
    return orUnavailable(async () => {
      const listed = await this.d.listing.newest(query.limit, query.status);
      // One record that no longer parses (written by another version) must not hide the others.
      return listed.flatMap((t) => {
        const source = TaskViewSource.safeParse(t.state);
        return source.success ? [toDescribe(source.data)] : [];
      });
    }, this.deadline);
  }

  describeRecorders(): Promise<RecorderView[]> {
    return orUnavailable(async () => {
      const live = await this.d.bus.recorders.live();
      return [...live].map(([id, beat]) => recorderView(id, beat)).sort((a, b) => (a.RecorderId < b.RecorderId ? -1 : a.RecorderId > b.RecorderId ? 1 : 0));
    }, this.deadline);
  }

  private get deadline(): number {
    return this.d.deadlineMs ?? API_DEADLINE_MS;
  }

  private async startTask(request: StartRequest): Promise<StartOutcome> {
    const refused = this.refuse(request);
    if (refused) return { ok: false, code: 'InvalidParam', message: refused };
    const taskId = (this.d.newTaskId ?? (() => crypto.randomUUID()))();
    if (request.RecordId) {
      const key = keys.recordId(request.RecordId);
      const set = await this.d.redis.set(key, taskId, 'PX', this.d.recordIdTtlMs, 'NX');
      if (set === null) {
        const existing = await this.d.redis.get(key);
        if (existing) return { ok: true, TaskID: existing, existed: true };
      }
    }
    // Counted once the request is known to be new (a retried Start still finds its task). Starts
    // racing on different hosts may pass the cap by as many as race: a cap, not an exact quota.
    if (this.d.maxTasks && (await this.d.store.liveCount()) >= this.d.maxTasks) {
      if (request.RecordId) await this.d.redis.del(keys.recordId(request.RecordId)).catch(() => undefined);
      return { ok: false, code: 'ResourceExhausted', message: `the service holds its most unfinished tasks (${this.d.maxTasks}, MAX_TASKS); try again once some have finished` };
    }
    try {
      await this.d.routes.create(taskId, this.sealed(request));
    } catch (err) {
      if (request.RecordId) await this.d.redis.del(keys.recordId(request.RecordId)).catch(() => undefined);
      if (err instanceof ActorUnavailable) return { ok: false, code: 'ServiceUnavailable', message: err.message };
      throw err;
    }
    return { ok: true, TaskID: taskId, existed: false };
  }

  private async commandTask(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    // Unknown ids are answered from the store, without routing anything.
    if (!(await this.d.store.exists(taskId))) return notFound(taskId);
    let reply: TaskReply | null;
    try {
      reply = await this.d.routes.send(taskId, { kind: 'command', command });
    } catch (err) {
      if (err instanceof ActorUnavailable) return { ok: false, code: 'ServiceUnavailable', message: err.message };
      throw err;
    }
    if (reply === null) return notFound(taskId);
    if (reply.ok) return { ok: true };
    if (reply.code === 'InvalidState') return { ok: false, code: 'InvalidState', message: reply.message };
    throw new Error(`unexpected reply to ${command}: ${reply.code}`);
  }

  async health(): Promise<Health> {
    try {
      const [pong, recorders] = await Promise.all([this.d.redis.ping(), this.d.bus.recorders.live()]);
      return {
        ok: pong === 'PONG',
        detail: { redis: pong, recorders: recorders.size, hosts: this.d.view.liveHosts().length, host: this.d.view.selfId, activeTasks: this.d.activeTasks() },
      };
    } catch (err) {
      return { ok: false, detail: { redis: String(err) } };
    }
  }

  private sealed(r: StartRequest): StoredRequest {
    const { EncryptKey, ...video } = r.Output.Video;
    const stored = { ...video, ...(EncryptKey ? { SealedKey: seal(this.d.kek, Buffer.from(EncryptKey, 'hex')) } : {}) };
    return { ...r, Output: { ...r.Output, Video: stored } };
  }

  private refuse(r: StartRequest): string | null {
    if (r.StorageType === 'cos' && !this.d.capabilities.cos) {
      return 'Data.StorageType "cos" needs COS to be configured on this service (COS credentials, and COS_BUCKET_RAW or COS_BUCKET)';
    }
    if (r.Output.Cos && !this.d.capabilities.cos) {
      return 'Data.Output.Cos needs COS to be configured on this service (COS_BUCKET, COS_REGION and credentials)';
    }
    if (r.Output.Vod && !this.d.capabilities.vod) {
      return 'Data.Output.Vod needs VOD to be configured on this service (VOD credentials)';
    }
    const cos = r.Output.Cos;
    if (cos && !r.Output.Vod && !(cos.Bucket ?? this.d.capabilities.cosBucket)) {
      return 'Data.Output.Cos.Bucket is needed: this service has no default bucket (COS_BUCKET)';
    }
    if (cos?.Bucket && !(cos.Region ?? this.d.capabilities.cosRegion)) {
      return 'Data.Output.Cos.Region is needed: this service has no default region (COS_REGION)';
    }
    const raw = rawPlaceOf('', r, { bucket: this.d.capabilities.cosBucket, region: this.d.capabilities.cosRegion, rawBucket: this.d.capabilities.cosRawBucket });
    if (raw && 'error' in raw) return raw.error;
    return null;
  }
}

function notFound(taskId: string): CommandOutcome {
  return { ok: false, code: 'TaskNotFound', message: `TaskID ${JSON.stringify(taskId)} not found` };
}
