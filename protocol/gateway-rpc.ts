// The gateway RPC: how an edge worker, or a host of another region, asks a region's hosts what the
// edge asks its TaskGateway. One POST per call, signed with CLUSTER_SECRET (rpc-signature.ts) for
// `region:<name>`: any host of the region may answer it, so replays are refused through the region's
// store, not one host's memory.
import { z } from 'zod';
import { StartRequest, TASK_COMMANDS } from './api.js';
import { TASK_STATUSES } from './task.js';

export const GATEWAY_RPC_PATH = '/internal/v1/gateway';
export const MAX_GATEWAY_RPC_BYTES = 256 * 1024;

/** Whom a gateway call is signed for: every host of the region. */
export const regionAudience = (region: string) => `region:${region}`;

const TaskId = z.string().min(1).max(128);

export const GatewayCall = z.discriminatedUnion('op', [
  z.object({ op: z.literal('start'), request: StartRequest }),
  z.object({ op: z.literal('command'), taskId: TaskId, command: z.enum(TASK_COMMANDS) }),
  z.object({ op: z.literal('describe'), taskId: TaskId }),
  z.object({ op: z.literal('listTasks'), query: z.object({ limit: z.number().int().min(1).max(1000), status: z.enum(TASK_STATUSES).optional() }) }),
  z.object({ op: z.literal('describeRecorders') }),
  z.object({ op: z.literal('health') }),
  // What the edge's authentication and RATE_LIMIT keep in the region's store.
  z.object({ op: z.literal('firstUse'), id: z.string().min(1).max(512), ttlMs: z.number().int().min(1).max(3_600_000) }),
  z.object({ op: z.literal('take'), client: z.string().min(1).max(512), perSecond: z.number().positive().max(1e6), burst: z.number().int().min(1).max(1e6) }),
]);
export type GatewayCall = z.infer<typeof GatewayCall>;

/**
 * `unavailable`: the region's store (or a host it needs) cannot be reached now, answered 503;
 * `refused`: the call was not authentic, fresh or new; `bad-request`: it does not parse, or asks this
 * region for another's task; `failed`: anything else.
 */
export type GatewayAnswer = { ok: true; result: unknown } | { ok: false; code: 'unavailable' | 'refused' | 'bad-request' | 'failed'; error: string };
