// What one host asks another over the internal RPC: run this for that actor. `hops` and
// `unreachable` travel along so a forwarded call never loops and never goes back to a host its
// sender already found dead.
import { z } from 'zod';

export const RPC_PATH = '/internal/v1/actor';
export const MAX_RPC_BYTES = 1024 * 1024;

export const ActorCall = z.object({
  op: z.enum(['send', 'create']),
  id: z.string().min(1).max(200),
  payload: z.unknown(),
  hops: z.number().int().min(0).max(8),
  unreachable: z.array(z.string()).max(64),
});
export type ActorCall = z.infer<typeof ActorCall>;

/** Answers: the result, or why not; `leaving` means "ask the next owner", anything else is final. */
export type ActorCallAnswer = { ok: true; result: unknown } | { ok: false; code: 'leaving' | 'unavailable' | 'bad-request' | 'failed'; error: string };

/** The peer cannot be reached, or is leaving: the caller tries the next owner. */
export class Unreachable extends Error {}
/** The actor cannot be run right now (its lease could not be had in time): answered 503. */
export class ActorUnavailable extends Error {}
/** This host is stopping: a caller goes to the next owner. */
export class Leaving extends Error {}
/** A call whose payload does not parse. */
export class BadCall extends Error {}
