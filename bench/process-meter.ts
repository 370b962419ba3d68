// CPU time and memory of a set of processes, sampled every 250 ms so that processes that come and
// go are counted while they lived.
import { processStat, pssBytes } from '../lib/process-stats.js';

export const memoryOf = (pids: number[]) => pids.reduce((sum, pid) => sum + pssBytes(pid), 0);

export class ProcessMeter {
  /** Highest total memory seen, bytes. */
  peakMemory = 0;
  private ticks = 0;
  private readonly first = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly names = new Map<number, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pids: () => number[]) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 250);
  }

  /** Core-seconds used by the processes since start(), in all and by kind of process. */
  stop(): { total: number; byProcess: Record<string, number> } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    let total = 0;
    const byProcess: Record<string, number> = {};
    for (const [pid, t] of this.last) {
      const used = t - (this.first.get(pid) ?? t);
      total += used;
      const name = this.names.get(pid) ?? '?';
      byProcess[name] = +((byProcess[name] ?? 0) + used).toFixed(2);
    }
    return { total, byProcess };
  }

  private sample(): void {
    const pids = this.pids();
    // Memory once a second: reading smaps is heavier than stat.
    if (this.ticks++ % 4 === 0) this.peakMemory = Math.max(this.peakMemory, memoryOf(pids));
    for (const pid of pids) {
      const r = processStat(pid);
      if (r === null) continue;
      const t = r.cpuSeconds;
      this.names.set(pid, r.name);
      // A process first seen now started after start(): all its time counts (its first reading is 0).
      if (!this.first.has(pid)) this.first.set(pid, this.timer === null ? t : 0);
      this.last.set(pid, t);
    }
  }
}
