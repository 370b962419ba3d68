// What /proc says of one process: CPU time used so far (user + system, all threads) and memory
// (proportional set size: shared pages split between their sharers, so Chromium's processes add
// up to what they really hold). Null or 0 when the process is gone.
import { readFileSync } from 'node:fs';

/** USER_HZ: the kernel's clock ticks per second in /proc, 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

export function processStat(pid: number): { cpuSeconds: number; name: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND, name: type ? `${comm}:${type}` : comm };
  } catch {
    return null;
  }
}

export function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
