// What a kind of actor gives the runtime: pure functions over its stored state, Durable-Object
// style. The runtime persists the state (fenced), indexes what the kind says, and hands the effects
// to the kind's own performer; it knows nothing of what the actor is for.
export type Decision<State, Reply, Effect> = { record: State; reply: Reply; effects: Effect[] };

/**
 * Kept beside the state, written with it: when to wake the actor, what it depends on, the group it
 * is counted in (null: none), so counts by group read one small hash per shard, never a scan, and
 * where it is listed among the shard's newest (`at`, e.g. its creation time, and a label to filter
 * by; null: not listed).
 */
export type ActorIndexes = { alarmAt: number | null; watch: string | null; group?: string | null; listed?: { at: number; label: string } | null };

export interface ActorKind<State, Input, Message, Reply, Effect> {
  parseState(json: unknown): State;
  /** Checks a creation input and a message arriving from another host. */
  parseInput(json: unknown): Input;
  parseMessage(json: unknown): Message;
  create(id: string, input: Input, now: number): Decision<State, Reply, Effect>;
  decide(state: State, message: Message, now: number): Decision<State, Reply, Effect>;
  indexes(state: State): ActorIndexes;
  /** A finished actor sleeps at once; its state expires after the retention. */
  finished(state: State): boolean;
  /** How long the actor may go without a message before it sleeps (hands its lease back). */
  idleLimitMs(state: State): number;
  /** The message a due alarm delivers. */
  readonly alarm: Message;
}
