// The CPU a recording's processes use, read from /proc between one reading and the next: the
// measurement behind ADMISSION_CPU_CORES=auto.
import { findMarked, type Marker } from '../lib/child-process.js';
import { processStat } from '../lib/process-stats.js';

export class RecordingCpu {
  private last: { at: number; seconds: Map<number, number> } | null = null;

  /**
   * Cores used by the processes carrying any of `markers` (and their descendants) since the last
   * reading; null on the first. A process born in between is counted from the next reading on.
   */
  read(markers: Marker[]): number | null {
    const pids = findMarked(markers);
    const now = { at: performance.now(), seconds: new Map<number, number>() };
    for (const pid of pids) {
      const s = processStat(pid);
      if (s) now.seconds.set(pid, s.cpuSeconds);
    }
    const last = this.last;
    this.last = now;
    if (!last || now.at - last.at < 1000) return null;
    let used = 0;
    for (const [pid, s] of now.seconds) {
      const before = last.seconds.get(pid);
      if (before !== undefined) used += s - before;
    }
    return used / ((now.at - last.at) / 1000);
  }

  /** Forgets the last reading (the recording paused or is stopping: the next stretch starts anew). */
  reset(): void {
    this.last = null;
  }
}
