// Whether a recorder takes one more recording now: only while the machine's measured headroom
// covers what a recording costs (measured from its own recordings, or set), and never beyond its slots.
// A job it does not take waits in the stream (for this recorder or another) rather than degrade the
// recordings already running.
import type { HostLoad } from '../lib/host-load.js';
import type { RecorderHeartbeat } from '../protocol/recorder.js';

export type RecordingCost = {
  cores: number;
  memoryBytes: number;
  /** The cores figure was measured here (ADMISSION_CPU_CORES=auto) rather than set. */
  measured?: boolean;
};

/** Whole megabytes, for what a refusal says. */
const mb = (b: number) => Math.round(Math.max(0, b) / 1048576);

export type Admission = { take: true } | { take: false; why: string };

export function admit(o: {
  load: HostLoad;
  /** Recordings running here. */
  active: number;
  /** Of those, the ones started too recently for the load measurement to show them yet. */
  starting: number;
  slots: number;
  cost: RecordingCost;
  /** Other recorders of the region, as their last heartbeats say. */
  peers?: RecorderHeartbeat[];
  /**
   * The least free space where a new recording writes (null: not known yet), where that is
   * (DATA_DIR, or a folder on another disk), and the least a new recording needs.
   */
  disk?: { free: number | null; minFree: number; where?: string };
}): Admission {
  const { load, cost } = o;
  // A full disk would end the recording it starts, and the others with it: the job waits instead.
  if (o.disk && o.disk.free !== null && o.disk.free < o.disk.minFree) {
    return { take: false, why: `${mb(o.disk.free)} MB free under ${o.disk.where ?? 'DATA_DIR'}, under MIN_FREE_DISK_MB (${mb(o.disk.minFree)})` };
  }
  if (o.active >= o.slots) return { take: false, why: `all ${o.slots} slots (RECORDER_SLOTS) are in use` };
  // An idle recorder always takes work: a machine busy with something else would otherwise never record.
  if (o.active === 0) return { take: true };
  // A job goes to whoever reads first; a recorder already recording leaves it to a peer that records
  // fewer and would take it, so that work spreads over the machines instead of piling up on one.
  const idler = o.peers?.find((p) => p.accepting && p.active < o.active);
  if (idler) return { take: false, why: `recorder ${idler.recorderId} records fewer (${idler.active}) and is taking jobs` };
  const idleCores = load.cores - load.busyCores - o.starting * cost.cores;
  if (cost.cores > 0 && idleCores < cost.cores) {
    return { take: false, why: `${Math.max(0, idleCores).toFixed(2)} idle cores, one more recording needs ${cost.cores} (${cost.measured ? 'measured here, ' : ''}ADMISSION_CPU_CORES)` };
  }
  const freeMemory = load.availableMemoryBytes - o.starting * cost.memoryBytes;
  if (cost.memoryBytes > 0 && freeMemory < cost.memoryBytes) {
    return { take: false, why: `${mb(freeMemory)} MB available, one more recording needs ${mb(cost.memoryBytes)} (ADMISSION_MEMORY_MB)` };
  }
  return { take: true };
}
