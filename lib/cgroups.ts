// A memory cgroup per recording browser: a page that eats memory loses its renderer at its cap, not the
// machine nor the other recordings. Cgroup v1 (the `memory` hierarchy) or v2 (one tree), under this
// process's own cgroup so that the service's own limits hold over its recordings. Processes join at
// spawn, through joinCommand, before they can fork.
//
// Not the CPU controller: grouping each browser under one CPU weight cost the recording beside a
// spinning page frames (Linux 6.18, 2 cores, a page spinning in 16 workers beside: 27.3 distinct fps
// grouped, 29.4 not; 4 workers: 24.8/27.2/26.1 grouped, 28.4/28.1/29.0 not). The scheduler's own
// fairness between threads serves a recording's short, frequent wake-ups better than a group weight
// spread over the cores; the figures are in the README.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupLimits = { memoryBytes: number };

export type RecordingCgroup = {
  name: string;
  /** The cgroup.procs files a process joins by. */
  procsFiles: string[];
  /** Processes the kernel killed in it for going over the memory cap. */
  oomKills(): number;
  memoryBytes: number;
  /** Kills every process in it (a renderer that outlived its browser included), then removes it. */
  remove(): Promise<void>;
};

export type Cgroups = {
  version: 1 | 2;
  /** Where the recordings' groups are made. */
  parents: string[];
  create(name: string): RecordingCgroup;
  /** Removes groups left by an earlier run (empty, older than a minute). */
  sweepStale(): number;
};

/** The group every recording's group is made in, under this process's own. */
const PARENT = 'webrecord';

export type CgroupsOrWhy = { cgroups: Cgroups } | { cgroups: null; why: string };

/** The cgroups this machine lets the service make, or why none can be made. */
export function openCgroups(limits: CgroupLimits, o: { root?: string; self?: string } = {}): CgroupsOrWhy {
  const root = o.root ?? '/sys/fs/cgroup';
  let own: Map<string, string>;
  try {
    own = ownPaths(readFileSync(o.self ?? '/proc/self/cgroup', 'utf8'));
  } catch (err) {
    return { cgroups: null, why: `cannot read this process's cgroups (${(err as Error).message})` };
  }
  const v1 = join(root, 'memory');
  try {
    if (existsSync(join(v1, 'cgroup.procs'))) return { cgroups: probe(v1Cgroups(parentIn(v1, own.get('memory') ?? '/'), limits)) };
    const controllers = readIfThere(join(root, 'cgroup.controllers'));
    if (controllers !== null) {
      if (!controllers.split(/\s+/).includes('memory')) return { cgroups: null, why: 'cgroup v2 here offers no memory controller' };
      return { cgroups: probe(v2Cgroups(v2Parent(root, own.get('') ?? '/'), limits)) };
    }
    return { cgroups: null, why: `no cgroup hierarchy with a memory controller is mounted at ${root}` };
  } catch (err) {
    return { cgroups: null, why: (err as Error).message };
  }
}

/**
 * The command that runs `cmd args` inside `group` from its first instruction: a shell writes its own
 * pid into the group, then becomes the command (same pid), so nothing it starts is ever outside.
 */
export function joinCommand(group: RecordingCgroup | null, cmd: string, args: string[]): [string, string[]] {
  if (!group) return [cmd, args];
  const script = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 126; shift; done; shift; exec "$@"';
  return ['/bin/sh', ['-c', script, 'webrecord-cgroup', ...group.procsFiles, '--', cmd, ...args]];
}

/** controller → path of this process's group ('' for the v2 tree). */
function ownPaths(text: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '') paths.set('', m[2]!);
    for (const c of m[1]!.split(',')) if (c) paths.set(c, m[2]!);
  }
  return paths;
}

/** Our own group in a v1 hierarchy when it is visible in this mount (not in a namespace), else its root. */
function parentIn(hierarchy: string, ownPath: string): string {
  const own = join(hierarchy, ownPath);
  const parent = join(existsSync(own) ? own : hierarchy, PARENT);
  mkdirSync(parent, { recursive: true });
  return parent;
}

function v1Cgroups(parent: string, limits: CgroupLimits): Cgroups {
  return {
    version: 1,
    parents: [parent],
    create(name) {
      const mem = join(parent, name);
      mkdirSync(mem);
      writeFileSync(join(mem, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // Swap would only make a runaway page slow instead of stopped.
      writeIfThere(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      return group(name, [mem], limits.memoryBytes, () => {
        const kills = /^oom_kill (\d+)$/m.exec(readIfThere(join(mem, 'memory.oom_control')) ?? '');
        return kills ? Number(kills[1]) : 0;
      });
    },
    sweepStale: () => sweep([parent]),
  };
}

/**
 * In v2 a group with controllers for its children may hold no process itself: the parent is made
 * beside our own group's processes, and when our group holds processes and its controllers are not yet
 * given to children, those processes move into a leaf of their own first (as with systemd's
 * Delegate=yes).
 */
function v2Parent(root: string, ownPath: string): string {
  const own = join(root, ownPath);
  const subtree = join(own, 'cgroup.subtree_control');
  if (!(readIfThere(subtree) ?? '').split(/\s+/).includes('memory')) {
    try {
      writeFileSync(subtree, '+memory');
    } catch {
      const leaf = join(own, `${PARENT}-service`);
      mkdirSync(leaf, { recursive: true });
      for (const pid of (readIfThere(join(own, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) {
        try {
          writeFileSync(join(leaf, 'cgroup.procs'), pid);
        } catch {
          // gone, or a kernel thread
        }
      }
      writeFileSync(subtree, '+memory');
    }
  }
  const parent = join(own, PARENT);
  mkdirSync(parent, { recursive: true });
  writeFileSync(join(parent, 'cgroup.subtree_control'), '+memory');
  return parent;
}

function v2Cgroups(parent: string, limits: CgroupLimits): Cgroups {
  return {
    version: 2,
    parents: [parent],
    create(name) {
      const dir = join(parent, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
      writeIfThere(join(dir, 'memory.swap.max'), '0');
      return group(name, [dir], limits.memoryBytes, () => {
        const kills = /^oom_kill (\d+)$/m.exec(readIfThere(join(dir, 'memory.events')) ?? '');
        return kills ? Number(kills[1]) : 0;
      });
    },
    sweepStale: () => sweep([parent]),
  };
}

function group(name: string, dirs: string[], memoryBytes: number, oomKills: () => number): RecordingCgroup {
  return {
    name,
    procsFiles: dirs.map((d) => join(d, 'cgroup.procs')),
    oomKills,
    memoryBytes,
    async remove() {
      for (const pid of dirs.flatMap((d) => (readIfThere(join(d, 'cgroup.procs')) ?? '').split('\n')).filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (let waited = 0; ; waited += 100) {
        const left = dirs.filter((d) => !tryRmdir(d));
        if (!left.length || waited >= 5000) return;
        dirs = left;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Proves the whole path once: a group made, a process moved into it, the group removed. */
function probe(cgroups: Cgroups): Cgroups {
  const g = cgroups.create(`probe-${process.pid}-${Date.now()}`);
  try {
    const [cmd, args] = joinCommand(g, '/bin/true', []);
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`a process cannot join a cgroup made in ${cgroups.parents.join(' and ')} (${(r.stderr || r.error?.message || `exit ${r.status}`).trim()})`);
  } finally {
    void g.remove();
  }
  return cgroups;
}

function sweep(parents: string[]): number {
  let removed = 0;
  for (const parent of parents) {
    for (const entry of readdirSync(parent, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = join(parent, entry.name);
      // Another service on this machine may have just made it and be about to move its browser in.
      if (Date.now() - statSync(dir).mtimeMs < 60_000) continue;
      if (tryRmdir(dir)) removed++;
    }
  }
  return removed;
}

function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function readIfThere(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function writeIfThere(file: string, value: string): void {
  if (existsSync(file)) {
    try {
      writeFileSync(file, value);
    } catch {
      // not settable here (swap accounting off)
    }
  }
}
