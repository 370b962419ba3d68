// What this machine has free, measured from /proc: busy CPU cores over the last few seconds (all
// processes, not just ours: a recording suffers from any load) and available memory.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export type HostLoad = { cores: number; busyCores: number; availableMemoryBytes: number };

const WINDOW = 5; // samples, one a second

function cpuTicks(): { busy: number; total: number } {
  // The first line: cpu user nice system idle iowait irq softirq steal ...
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function availableMemory(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export class HostLoadMeter {
  private readonly samples: { busy: number; total: number }[] = [];
  private timer: NodeJS.Timeout | null = null;
  readonly cores = availableParallelism();

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The load over the last few seconds (since start when younger). */
  now(): HostLoad {
    const last = cpuTicks();
    const first = this.samples[0] ?? last;
    const share = last.total > first.total ? (last.busy - first.busy) / (last.total - first.total) : 0;
    return { cores: this.cores, busyCores: +(share * this.cores).toFixed(3), availableMemoryBytes: availableMemory() };
  }

  private sample(): void {
    this.samples.push(cpuTicks());
    if (this.samples.length > WINDOW) this.samples.shift();
  }
}
