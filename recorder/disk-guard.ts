// Watches the free space where recordings write while they write: tells each recording once (per ten
// minutes) when at the present rate DATA_DIR's disk is full within ten minutes, and ends recordings
// with what they hold before a disk is quite full (a quarter of MIN_FREE_DISK_MB left), so that their
// files can still be finished and the store can still write. DATA_DIR is judged for all; each
// recording's own files too, for the folders that are other disks (a shared intermediate mount, say),
// and the places a new recording will write are judged before a job is taken. (ffmpeg's HLS muxer
// carries on silently past a segment it could not write: the space must be watched, not the errors.)
import { stat } from 'node:fs/promises';
import { freeBytes } from '../lib/disk-space.js';
import type { Logger } from '../lib/logger.js';

export type DiskWatched = {
  taskId: string;
  diskFull?(why: string): void;
  warn?(message: string): void;
  /** The files and folders it writes into now. */
  writesTo?(): string[];
};

const WINDOW_MS = 10_000;
const WARN_WITHIN_S = 600;
const WARN_AGAIN_MS = 600_000;

const mb = (b: number) => Math.round(Math.max(0, b) / 1048576);

export class DiskGuard {
  /** The least free space of the places read last (bytes), null before the first reading. */
  free: number | null = null;
  /** Where that least free space is ('DATA_DIR', or a folder on another disk). */
  where = 'DATA_DIR';
  private readings: { at: number; free: number }[] = [];
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly dataDir: string,
    private readonly minFreeBytes: number,
    private readonly log: Logger,
    /** Folders a new recording writes into besides DATA_DIR (they may be other disks). */
    private readonly places: string[] = [],
  ) {}

  /** Reads the free space now (before a job is taken: the last tick may be a second old). */
  async read(): Promise<number | null> {
    try {
      let least = { free: await freeBytes(this.dataDir), where: 'DATA_DIR' };
      for (const place of this.places) {
        const free = await freeBytes(place).catch(() => null); // not made yet: judged once it is
        if (free !== null && free < least.free) least = { free, where: place };
      }
      this.free = least.free;
      this.where = least.where;
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
    let free: number;
    try {
      free = await freeBytes(this.dataDir);
    } catch (err) {
      this.log.warn({ err: String(err) }, 'cannot read the free space under DATA_DIR');
      return;
    }
    this.readings = [...this.readings.filter((r) => now - r.at <= WINDOW_MS), { at: now, free }];
    const floor = this.minFreeBytes / 4;
    const list = [...recordings];
    if (free < floor) {
      const why = `the disk under DATA_DIR is full: ${mb(free)} MB free, under a quarter of MIN_FREE_DISK_MB (${mb(this.minFreeBytes)} MB)`;
      if (list.length) this.log.error({ freeMb: mb(free) }, 'the disk is nearly full: ending the recordings with what they hold');
      for (const r of list) r.diskFull?.(why);
      return;
    }
    // A file on DATA_DIR's own disk was judged above, as DATA_DIR: read again a moment later it could
    // be under the floor and be named by its path, which says less.
    const dataDev = await stat(this.dataDir).then(
      (s) => s.dev,
      () => null,
    );
    for (const r of list) {
      for (const path of r.writesTo?.() ?? []) {
        const dev = await stat(path).then(
          (s) => s.dev,
          () => null,
        );
        // A path that cannot be read (not made yet, gone) is not judged; its writes say for themselves.
        if (dev === null || dev === dataDev) continue;
        const left = await freeBytes(path).catch(() => null);
        if (left === null || left >= floor) continue;
        this.log.error({ taskId: r.taskId, path, freeMb: mb(left) }, 'the disk a recording writes to is nearly full: ending it with what it holds');
        r.diskFull?.(`the disk under ${path} is full: ${mb(left)} MB free, under a quarter of MIN_FREE_DISK_MB (${mb(this.minFreeBytes)} MB)`);
        break;
      }
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
