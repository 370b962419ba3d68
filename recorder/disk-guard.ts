// Watches the free space under DATA_DIR while recordings write into it: tells each recording once
// (per ten minutes) when at the present rate the disk is full within ten minutes, and ends the
// recordings with what they hold before the disk is quite full (a quarter of MIN_FREE_DISK_MB left),
// so that their files can still be finished and the store can still write.
import { freeBytes } from '../lib/disk-space.js';
import type { Logger } from '../lib/logger.js';

export type DiskWatched = { taskId: string; diskFull?(why: string): void; warn?(message: string): void };

const WINDOW_MS = 10_000;
const WARN_WITHIN_S = 600;
const WARN_AGAIN_MS = 600_000;

export class DiskGuard {
  /** The last reading (bytes free), null before the first. */
  free: number | null = null;
  private readings: { at: number; free: number }[] = [];
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly dataDir: string,
    private readonly minFreeBytes: number,
    private readonly log: Logger,
  ) {}

  /** Reads the free space now (before a job is taken: the last tick may be a second old). */
  async read(): Promise<number | null> {
    try {
      this.free = await freeBytes(this.dataDir);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'cannot read the free space under DATA_DIR');
    }
    return this.free;
  }

  /** Whether a new recording must wait for space. */
  get tooFull(): boolean {
    return this.free !== null && this.free < this.minFreeBytes;
  }

  async tick(recordings: Iterable<DiskWatched>, now = Date.now()): Promise<void> {
    const free = await this.read();
    if (free === null) return;
    this.readings = [...this.readings.filter((r) => now - r.at <= WINDOW_MS), { at: now, free }];
    const mb = (b: number) => Math.round(b / 1048576);
    const list = [...recordings];
    if (free < this.minFreeBytes / 4) {
      const why = `the disk under DATA_DIR is full: ${mb(free)} MB free, under a quarter of MIN_FREE_DISK_MB (${mb(this.minFreeBytes)} MB)`;
      if (list.length) this.log.error({ freeMb: mb(free) }, 'the disk is nearly full: ending the recordings with what they hold');
      for (const r of list) r.diskFull?.(why);
      return;
    }
    const first = this.readings[0]!;
    const rate = now > first.at ? (first.free - free) / ((now - first.at) / 1000) : 0; // bytes a second
    if (rate <= 0 || free / rate > WARN_WITHIN_S) return;
    const minutes = Math.max(1, Math.round(free / rate / 60));
    for (const r of list) {
      if (now - (this.warned.get(r.taskId) ?? -Infinity) < WARN_AGAIN_MS) continue;
      this.warned.set(r.taskId, now);
      r.warn?.(`the disk under DATA_DIR has ${mb(free)} MB free: at the present rate it is full in about ${minutes} min`);
    }
  }
}
