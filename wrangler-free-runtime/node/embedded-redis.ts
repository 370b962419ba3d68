// The embedded default's Redis: a private redis-server child on a free port, persisting under
// DATA_DIR (append-only file, fsync every second) so a restart keeps every task. Supervised: one
// that dies is started again on the same port and data. It dies with us (setpriv --pdeathsig), and
// one left over by a crash of ours is ended before a new one starts.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { exited, findMarked, spawnGuarded, terminate } from '../../lib/child-process.js';
import type { Logger } from '../../lib/logger.js';
import { freePort } from '../../lib/net.js';

export type EmbeddedRedis = { url: string; stop(): Promise<void> };

/** A redis-server that dies is started again this soon, on the same port and append-only file. */
const RESTART_DELAY_MS = 100;

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
  const url = `redis://127.0.0.1:${port}`;
  let child = await launch(dir, port, marker);
  log.info({ url, dir }, 'embedded redis-server ready');

  // Supervised: the service's clients reconnect to the same port, and find the same data (the
  // append-only file, fsync'd every second) once the server is back.
  let stopping = false;
  const supervise = (c: ChildProcess) =>
    void exited(c).then(async () => {
      if (stopping) return;
      log.error({ code: c.exitCode, signal: c.signalCode }, 'the embedded redis-server died; starting it again on the same data');
      for (let attempt = 1; !stopping; attempt++) {
        await new Promise((r) => setTimeout(r, Math.min(2000, RESTART_DELAY_MS * attempt)));
        if (stopping) return;
        try {
          child = await launch(dir, port, marker);
          if (stopping) return void (await terminate(child, 5000));
          log.warn({ url, attempt }, 'the embedded redis-server is back');
          supervise(child);
          return;
        } catch (err) {
          log.error({ err: String(err), attempt }, 'starting the embedded redis-server again failed; trying again');
        }
      }
    });
  supervise(child);
  return {
    url,
    stop: async () => {
      stopping = true;
      await terminate(child, 5000);
    },
  };
}

/** Starts redis-server and waits until it answers (after loading its append-only file). */
async function launch(dir: string, port: number, marker: Record<string, string>): Promise<ChildProcess> {
  const child = spawnGuarded(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--logfile',
      'redis.log',
      '--daemonize',
      'no',
      // Keep the environment block readable: the marker above is how a leftover server is found.
      '--set-proc-title',
      'no',
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
      const stillRunning = await Promise.race([gone.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 50))]);
      if (!stillRunning) throw new Error(`redis-server exited at start (see ${join(dir, 'redis.log')})`);
      try {
        await probe.connect();
        // Loading a large append-only file answers LOADING until done.
        if ((await probe.ping()) === 'PONG') return child;
      } catch {
        probe.disconnect();
      }
      if (Date.now() > deadline) {
        await terminate(child, 2000);
        throw new Error(`redis-server did not answer within 15 s (see ${join(dir, 'redis.log')})`);
      }
    }
  } finally {
    probe.disconnect();
  }
}
