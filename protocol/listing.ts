// The two Actions this service adds for watching it (README "Console"): ListTasks, the newest tasks
// of the region, and DescribeRecorders, the recorders alive now with their slots and measured load.
// Apart from api.ts, which task.ts itself imports (the statuses live there).
import { z } from 'zod';
import { int, object, oneOf, optional } from './fields.js';
import { RegionField } from './region.js';
import type { RecorderHeartbeat } from './recorder.js';
import { DescribeView, TASK_STATUSES, type TaskStatus } from './task.js';

export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;

export const ListTasksData = object('Data', {
  Limit: optional(int('Data.Limit', 1, MAX_LIST_LIMIT)),
  Status: optional(oneOf('Data.Status', TASK_STATUSES)),
  /** Addition: whose tasks; default: the region asked. */
  Region: RegionField('Data.Region'),
});
export type ListTasksData = z.output<typeof ListTasksData>;

export const DescribeRecordersData = object('Data', { Region: RegionField('Data.Region') });

/** What the gateway is asked: every default resolved. */
export type TaskQuery = { limit: number; status?: TaskStatus; region?: string };

export function taskQuery(d: ListTasksData): TaskQuery {
  return { limit: d.Limit ?? DEFAULT_LIST_LIMIT, ...(d.Status ? { status: d.Status } : {}), ...(d.Region ? { region: d.Region } : {}) };
}

export const ListTasksAnswer = z.object({ Tasks: z.array(DescribeView) });

/** One recorder as DescribeRecorders answers it, from its last heartbeat. */
export const RecorderView = z.object({
  RecorderId: z.string(),
  /** The machine it runs on, when its heartbeat says. */
  Host: z.string().optional(),
  Version: z.string(),
  Slots: z.number().int().nonnegative(),
  Running: z.number().int().nonnegative(),
  SlotsFree: z.number().int().nonnegative(),
  /** Whether its admission would take one more Start job now. */
  Accepting: z.boolean(),
  /** What it measured of its machine: busy cores over the last seconds, of how many, and what one recording costs there. */
  Load: z.object({
    Cores: z.number().nonnegative(),
    BusyCores: z.number().nonnegative(),
    RecordingCores: z.number().nonnegative(),
    AvailableMemoryBytes: z.number().nonnegative(),
  }),
  /** When it last beat (Unix seconds, its own clock). */
  LastSeen: z.number().int().nonnegative(),
});
export type RecorderView = z.infer<typeof RecorderView>;

export const DescribeRecordersAnswer = z.object({ Recorders: z.array(RecorderView) });

export function recorderView(id: string, hb: RecorderHeartbeat & { host?: string }): RecorderView {
  return {
    RecorderId: id,
    ...(hb.host ? { Host: hb.host } : {}),
    Version: hb.version,
    Slots: hb.slots,
    Running: hb.active,
    SlotsFree: Math.max(0, hb.slots - hb.active),
    Accepting: hb.accepting,
    Load: { Cores: hb.cores, BusyCores: hb.busyCores, RecordingCores: hb.recordingCores, AvailableMemoryBytes: hb.availableMemoryBytes },
    LastSeen: Math.floor(hb.at / 1000),
  };
}
