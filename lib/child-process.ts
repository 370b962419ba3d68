// Spawning the service's helpers (redis-server, ffmpeg, Chromium) so that none outlives us:
// - setpriv --pdeathsig makes the kernel kill the child when this process dies, even by SIGKILL;
// - a marker in the child's environment (inherited by its own children) lets a sweep find and end
//   every process of a task or of a service instance, and never anybody else's.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';
export const MARKER_PREFIX = 'WEBRECORD_';

export type Marker = Record<string, string>; // e.g. { WEBRECORD_OWNER: <instance>, WEBRECORD_TASK: <id> }

/**
 * The command and arguments that run `cmd` so that it dies with this process; with `runAs`, as that
 * user and group (no supplementary groups), which setpriv sets before it runs `cmd`.
 */
export function guardedCommand(cmd: string, args: string[], runAs?: { uid: number; gid: number }): [string, string[]] {
  const as = runAs ? [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : [];
  if (!existsSync(SETPRIV)) {
    if (runAs) throw new Error(`${SETPRIV} is needed to start a process as another user (util-linux)`);
    return [cmd, args];
  }
  return [SETPRIV, [...as, '--pdeathsig', 'KILL', '--', cmd, ...args]];
}

export function markedEnv(marker: Marker, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ...marker };
}

export function spawnGuarded(cmd: string, args: string[], marker: Marker, options: SpawnOptions = {}): ChildProcess {
  const [file, argv] = guardedCommand(cmd, args);
  return spawn(file, argv, { ...options, env: markedEnv(marker, options.env ?? process.env) });
}

/**
 * Pids of live processes whose environment carries every key=value of `marker` (of any one of them,
 * given several), and of all their descendants (Chromium's zygote and renderers, and anything that
 * rewrites its own environment block, cannot be recognized by the marker itself). One scan of /proc.
 */
export function findMarked(marker: Marker | Marker[]): number[] {
  const wanted = (Array.isArray(marker) ? marker : [marker]).map((m) => Object.entries(m));
  return findByEnv((env) => wanted.some((kv) => kv.every(([k, v]) => env.get(k) === v)));
}

/** Pids of live processes whose environment passes `test`, and of all their descendants. */
export function findByEnv(test: (env: Map<string, string>) => boolean): number[] {
  const children = new Map<number, number[]>();
  const marked: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let stat: string;
    let environ: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours to read
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    if (!environ.includes(MARKER_PREFIX)) continue;
    const env = new Map<string, string>();
    for (const kv of environ.split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0 && kv.startsWith(MARKER_PREFIX)) env.set(kv.slice(0, i), kv.slice(i + 1));
    }
    if (test(env)) marked.push(pid);
  }
  const found = new Set<number>();
  const queue = [...marked];
  while (queue.length) {
    const pid = queue.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...found];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILL every live process carrying `marker`; returns how many there were. */
export function sweepMarked(marker: Marker): number {
  return killAll(findMarked(marker));
}

export function killAll(pids: number[]): number {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return pids.length;
}

/** Resolves when the child has exited (immediately if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL after `graceMs` if still running. */
export async function terminate(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}
