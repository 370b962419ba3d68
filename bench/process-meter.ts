// CPU time (user + system, all threads) and memory (proportional set size: shared pages split
// between their sharers, so Chromium's processes add up to what they really hold) of a set of
// processes, sampled from /proc so that processes that come and go are counted while they lived.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function read(pid: number): { ticks: number; name: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { ticks: Number(f[11]) + Number(f[12]), name: type ? `${comm}:${type}` : comm };
  } catch {
    return null;
  }
}

/** Proportional set size in bytes (0 when the process is gone). */
export function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

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
      const used = (t - (this.first.get(pid) ?? t)) / TICKS_PER_SECOND;
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
      const r = read(pid);
      if (r === null) continue;
      const t = r.ticks;
      this.names.set(pid, r.name);
      // A process first seen now started after start(): all its time counts (its first tick is 0).
      if (!this.first.has(pid)) this.first.set(pid, this.timer === null ? t : 0);
      this.last.set(pid, t);
    }
  }
}
