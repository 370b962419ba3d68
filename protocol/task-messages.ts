// What a task's actor is sent, as a schema: messages cross hosts (the internal RPC forwards them to
// the task's owner), so they are checked on arrival like any other boundary.
import { z } from 'zod';
import { TASK_COMMANDS } from './api.js';
import { RecorderEvent } from './recorder.js';

export const TaskMessage = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('command'), command: z.enum(TASK_COMMANDS) }),
  z.object({
    kind: z.literal('event'),
    event: RecorderEvent,
    /**
     * Set when the event waited long enough for an earlier one that never came (a recorder that
     * gave up sending it, a malformed entry dropped): apply it past the gap.
     */
    late: z.boolean().optional(),
  }),
  z.object({ kind: z.literal('alarm') }),
  /** The recorder holding the task stopped heartbeating. */
  z.object({ kind: z.literal('recorderLost'), recorderId: z.string() }),
  z.object({ kind: z.literal('callbackResult'), tryNumber: z.number().int().positive(), ok: z.boolean(), error: z.string().optional() }),
]);
export type TaskMessage = z.infer<typeof TaskMessage>;

export type TaskReply =
  | { ok: true }
  | { ok: false; code: 'InvalidState'; message: string }
  /** An event ahead of the next one expected: deliver it again once the earlier ones are in. */
  | { ok: false; code: 'EarlyEvent'; message: string };
export const TaskReply: z.ZodType<TaskReply> = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), code: z.enum(['InvalidState', 'EarlyEvent']), message: z.string() }),
]) as z.ZodType<TaskReply>;
