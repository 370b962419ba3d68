// Temporary directories for tests and benchmarks (data dirs with recordings in them, megabytes
// each). They go when the process ends, unless it ends failing: then they stay for the post-mortem
// (service logs, intermediate files) and are named on stderr.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

process.on('exit', (code) => {
  const failing = code !== 0 || (process.exitCode !== undefined && process.exitCode !== 0);
  for (const dir of made) {
    if (failing) process.stderr.write(`kept for inspection: ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
});

export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `webrecord-${prefix}-`));
  made.push(dir);
  return dir;
}
