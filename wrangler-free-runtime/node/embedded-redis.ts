// The embedded default's Redis: a private redis-server child on a free port, persisting under
// DATA_DIR (append-only file, fsync every second) so a restart keeps every task. It dies with us
// (setpriv --pdeathsig), and one left over by a crash of ours is ended before a new one starts.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { exited, findMarked, spawnGuarded, terminate } from '../../lib/child-process.js';
import type { Logger } from '../../lib/logger.js';
import { freePort } from '../../lib/net.js';

export type EmbeddedRedis = { url: string; stop(): Promise<void> };

export async function startEmbeddedRedis(dataDir: string, log: Logger): Promise<EmbeddedRedis> {
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // Two servers on one append-only file would corrupt it: end any that still serves this directory.
  const marker = { WEBRECORD_REDIS_DIR: dir };
  for (const pid of findMarked(marker)) {
    log.warn({ pid }, 'ending a redis-server left over from an earlier run');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const port = await freePort();
  const child = spawnGuarded(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
      '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--logfile', 'redis.log', '--daemonize', 'no',
      // Keep the environment block readable: the marker above is how a leftover server is found.
      '--set-proc-title', 'no',
    ],
    marker,
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const gone = exited(child);
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const deadline = Date.now() + 15_000;
  try {
    for (;;) {
      const stillRunning = await Promise.race([gone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 100))]);
      if (!stillRunning) throw new Error(`redis-server exited at start (see ${join(dir, 'redis.log')})`);
      try {
        await probe.connect();
        // Loading a large append-only file answers LOADING until done.
        if ((await probe.ping()) === 'PONG') break;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server did not answer within 15 s (see ${join(dir, 'redis.log')})`);
    }
  } finally {
    probe.disconnect();
  }
  log.info({ url, dir }, 'embedded redis-server ready');
  return { url, stop: () => terminate(child, 5000) };
}
