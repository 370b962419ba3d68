// What the edge needs from whatever hosts the task actors. The runtime implements it; the edge only
// sees this interface, so it runs the same on Node or on an edge runtime that forwards to a runtime.
import type { StartRequest, TaskCommand } from './api.js';
import type { RecorderView, TaskQuery } from './listing.js';
import type { DescribeView } from './task.js';

export type StartOutcome =
  | { ok: true; TaskID: string; existed: boolean }
  // The request is well-formed but asks for something this deployment cannot do (e.g. COS output
  // without COS credentials configured).
  | { ok: false; code: 'InvalidParam'; message: string }
  /** The task's host could not be reached in time (a host just died, the store is away). */
  | { ok: false; code: 'ServiceUnavailable'; message: string }
  /** The deployment holds its cap of unfinished tasks (MAX_TASKS). */
  | { ok: false; code: 'ResourceExhausted'; message: string };

export type CommandOutcome = { ok: true } | { ok: false; code: 'TaskNotFound' | 'InvalidState' | 'ServiceUnavailable'; message: string };

export type Health = { ok: boolean; detail: Record<string, unknown> };

/** Thrown by a gateway whose store cannot be reached now: the edge answers 503 ServiceUnavailable. */
export class ServiceUnavailableError extends Error {}

/** Thrown by a gateway for a request it cannot take as asked (a region it does not know): InvalidParam. */
export class InvalidParamError extends Error {}

export interface TaskGateway {
  start(request: StartRequest): Promise<StartOutcome>;
  command(taskId: string, command: TaskCommand): Promise<CommandOutcome>;
  describe(taskId: string): Promise<DescribeView | null>;
  /** The region's newest tasks, newest first (ListTasks); `query.region`: another region's. */
  listTasks(query: TaskQuery): Promise<DescribeView[]>;
  /** The region's live recorders (DescribeRecorders); `region`: another region's (README "Regions"). */
  describeRecorders(region?: string): Promise<RecorderView[]>;
  health(): Promise<Health>;
}
