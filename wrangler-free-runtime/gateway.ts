// The TaskGateway the edge talks to, backed by this host's actors and the task store.
import type { Redis } from 'ioredis';
import type { StartRequest, StoredRequest, TaskCommand } from '../protocol/api.js';
import { seal } from '../lib/key-wrap.js';
import type { CommandOutcome, Health, StartOutcome, TaskGateway } from '../protocol/gateway.js';
import { keys } from '../protocol/keys.js';
import { toDescribe, type DescribeView } from '../protocol/task.js';
import type { ActorHost } from './actor-host.js';
import type { RecorderLink } from './recorder-link.js';
import type { TaskStore } from './task-store.js';

export type Capabilities = {
  /** Which outputs this deployment can write; a Start asking for another is refused up front. */
  cos: boolean;
  vod: boolean;
};

export class RuntimeGateway implements TaskGateway {
  constructor(
    private readonly d: {
      redis: Redis;
      host: ActorHost;
      store: TaskStore;
      link: RecorderLink;
      capabilities: Capabilities;
      recordIdTtlMs: number;
      /** Seals HLS keys before anything is stored. */
      kek: Buffer;
      newTaskId?: () => string;
    },
  ) {}

  async start(request: StartRequest): Promise<StartOutcome> {
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
    try {
      await this.d.host.create(taskId, this.sealed(request));
    } catch (err) {
      if (request.RecordId) await this.d.redis.del(keys.recordId(request.RecordId)).catch(() => undefined);
      throw err;
    }
    return { ok: true, TaskID: taskId, existed: false };
  }

  async command(taskId: string, command: TaskCommand): Promise<CommandOutcome> {
    // Unknown ids are answered from the store, without taking a lease.
    if (!(await this.d.redis.exists(keys.task(taskId)))) return notFound(taskId);
    const reply = await this.d.host.send(taskId, { kind: 'command', command });
    if (reply === null) return notFound(taskId);
    return reply.ok ? { ok: true } : { ok: false, code: reply.code, message: reply.message };
  }

  async describe(taskId: string): Promise<DescribeView | null> {
    const record = await this.d.store.getView(taskId);
    return record ? toDescribe(record) : null;
  }

  async health(): Promise<Health> {
    try {
      const [pong, recorders] = await Promise.all([this.d.redis.ping(), this.d.link.liveRecorders()]);
      return { ok: pong === 'PONG', detail: { redis: pong, recorders: recorders.length, activeTasks: this.d.host.activeCount } };
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
      return 'Data.StorageType "cos" needs COS to be configured on this service (COS_BUCKET, COS_REGION and credentials)';
    }
    if (r.Output.Cos && !this.d.capabilities.cos) {
      return 'Data.Output.Cos needs COS to be configured on this service (COS_BUCKET, COS_REGION and credentials)';
    }
    if (r.Output.Vod && !this.d.capabilities.vod) {
      return 'Data.Output.Vod needs VOD to be configured on this service (VOD credentials)';
    }
    return null;
  }
}

function notFound(taskId: string): CommandOutcome {
  return { ok: false, code: 'TaskNotFound', message: `TaskID ${JSON.stringify(taskId)} not found` };
}
