// The recording browsers' cgroups, on this machine's kernel: a process started through joinCommand
// is inside its group from its first instruction (its children too), the kernel stops it at the cap
// and the group counts it, and removing the group ends whatever is left in it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { joinCommand, openCgroups } from '../../lib/cgroups.js';
import { exited, isAlive } from '../../lib/child-process.js';
import { waitFor } from '../helpers/wait.js';

const opened = openCgroups({ memoryBytes: 128 * 1024 * 1024 });

describe('recording cgroups', () => {
  it('are offered on this machine (cgroup v1 memory)', () => {
    assert.ok(opened.cgroups, `no cgroups: ${opened.cgroups ? '' : opened.why}`);
  });

  it('cap a process and its children at the memory limit, and count the kill', async () => {
    const group = opened.cgroups!.create(`test-${process.pid}-eat`);
    try {
      // The child says which groups it is in, then forks a grandchild that eats: both must be inside.
      // (Read from the child itself: it may be gone before a look at the group's procs would see it.)
      const eat = 'const a=[]; setInterval(()=>a.push(Buffer.alloc(16<<20, 1)), 10)';
      const parent = `console.log(require('fs').readFileSync('/proc/self/cgroup', 'utf8')); require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(eat)}], {stdio:'inherit'}).on('exit', (c, s) => { console.log(s); process.exit(0) })`;
      const [cmd, args] = joinCommand(group, process.execPath, ['-e', parent]);
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      await exited(child);
      const lines = out.trim().split('\n');
      assert.ok(
        lines.some((l) => /^\d+:[^:]*:\//.test(l) && l.endsWith(`/test-${process.pid}-eat`)), // cgroup v1 (memory) or v2
        `the child was in the group from its start: ${out}`,
      );
      // Killed at the cap: so the grandchild was inside too.
      assert.equal(lines.at(-1), 'SIGKILL', 'the eating grandchild was killed');
      assert.ok(group.oomKills() >= 1, `the group counts ${group.oomKills()} kills`);
    } finally {
      await group.remove();
    }
  });

  it('are removed with whatever still runs in them', async () => {
    const group = opened.cgroups!.create(`test-${process.pid}-left`);
    const [cmd, args] = joinCommand(group, 'sleep', ['600']);
    const child = spawn(cmd, args, { stdio: 'ignore' });
    await waitFor(() => readFileSync(group.procsFiles[0]!, 'utf8').includes(String(child.pid)), { timeoutMs: 5000, what: 'sleep in the group' });
    assert.equal(group.oomKills(), 0);
    await group.remove();
    await exited(child);
    assert.equal(isAlive(child.pid!), false);
    assert.throws(() => readFileSync(group.procsFiles[0]!), /ENOENT/, 'the group is gone');
  });
});
