// The TaskActor (../actors/task-actor.ts) as a kind of actor the runtime can host: its schemas, its
// pure functions, and when it sleeps.
import { type ActorConfig, createTask, decide, type Effect, indexesOf } from '../actors/task-actor.js';
import { StoredRequest } from '../protocol/api.js';
import { TaskMessage, type TaskReply } from '../protocol/task-messages.js';
import { TaskRecord } from '../protocol/task.js';
import type { ActorKind } from '../wrangler-free-runtime/actor-kind.js';

export type TaskKind = ActorKind<TaskRecord, StoredRequest, TaskMessage, TaskReply, Effect>;

/**
 * An actor without a message for this long is put to sleep: its lease is handed back and it leaves
 * memory; its next message (a recorder event, a command, its alarm) wakes it from the stored state.
 * Without this every queued task kept a lease renewed every few seconds, so a backlog of queued
 * tasks slowed every API call (Describe fell from 23k to 9k requests/s as 100k Starts queued).
 */
export const SLEEP_AFTER_MS = 30_000;

export function taskKind(config: ActorConfig, sleepAfterMs = SLEEP_AFTER_MS): TaskKind {
  return {
    parseState: (json) => TaskRecord.parse(json),
    parseInput: (json) => StoredRequest.parse(json),
    parseMessage: (json) => TaskMessage.parse(json),
    create: (id, request, now) => createTask(id, request, now, config),
    decide: (task, message, now) => decide(task, message, now, config),
    indexes: indexesOf,
    finished: (task) => task.Status === 'finished',
    // A task waiting in the queue has nothing to do until a recorder takes its job (whose first event
    // wakes it) or its alarm fires, so it sleeps at the first lease round after its last message.
    // Kept awake 30 s, a burst of Starts kept tens of thousands of leases renewing and Start itself
    // slowed round by round (4.8k → 2.6k requests/s over three 5 s rounds).
    idleLimitMs: (task) => (task.Status === 'normal' && task.recorderId === null ? 0 : sleepAfterMs),
    alarm: { kind: 'alarm' },
  };
}
