// A real Redis Cluster for a test: three masters (redis-server --cluster-enabled yes) on loopback,
// each with `replicas` replicas, joined by `redis-cli --cluster create`, ended with the test (they die
// with this process too). A master can be killed to make its replica take over (a failover).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { exited, spawnGuarded, terminate } from '../../lib/child-process.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export type TestCluster = {
  /** "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3", as REDIS_CLUSTER_NODES takes it. */
  seeds: string;
  nodes: { host: string; port: number }[];
  client(): Cluster;
  /** The master that serves `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the server on `port`; resolves once another node has taken its slots over. */
  failOver(port: number): Promise<void>;
  stop(): Promise<void>;
};

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A port that is free, and whose cluster bus port (port + 10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (taken.has(port) || taken.has(port + 10000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) {
      taken.add(port);
      taken.add(port + 10000);
      return port;
    }
  }
}

export async function startTestCluster(masters = 3, replicas = 0): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'webrecord-cluster-'));
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) ports.push(await clusterPort(taken));
  const marker = { WEBRECORD_TEST_CLUSTER: dir };
  const servers = ports.map((port) =>
    spawnGuarded(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--logfile',
        `redis-${port}.log`,
      ],
      marker,
      { stdio: 'ignore' },
    ),
  );
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  const clients: Cluster[] = [];
  const stop = async () => {
    for (const c of clients) c.disconnect();
    await Promise.all(servers.map((s) => terminate(s, 2000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [i, port] of ports.entries()) {
      await waitFor(
        async () => {
          if (servers[i]!.exitCode !== null) throw new Error(`redis-server on ${port} exited (see ${dir})`);
          const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          probe.on('error', () => undefined);
          try {
            await probe.connect();
            return (await probe.ping()) === 'PONG';
          } catch {
            return false;
          } finally {
            probe.disconnect();
          }
        },
        { timeoutMs: 10_000, intervalMs: 100, what: `redis-server on ${port}` },
      );
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    await waitFor(
      async () => {
        const states = await Promise.all(ports.map(async (port) => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok')));
        return states.every(Boolean);
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'cluster_state:ok on every node' },
    );
    // Replicas take a moment to sync from their masters; a failover before that loses the data.
    if (replicas) {
      await waitFor(
        async () => {
          const roles = await Promise.all(ports.map(async (port) => (await run('redis-cli', ['-p', String(port), 'info', 'replication'])).stdout));
          return roles.filter((r) => r.includes('role:slave')).every((r) => r.includes('master_link_status:up'));
        },
        { timeoutMs: 15_000, intervalMs: 200, what: 'replicas in sync' },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  void Promise.all(servers.map(exited));
  return {
    seeds: ports.map((p) => `127.0.0.1:${p}`).join(','),
    nodes,
    client() {
      const c = new Cluster(nodes, { scaleReads: 'master' });
      clients.push(c);
      return c;
    },
    async masterOf(key) {
      const live = ports.find((_, i) => servers[i]!.exitCode === null && servers[i]!.signalCode === null)!;
      const slot = Number((await run('redis-cli', ['-p', String(live), 'cluster', 'keyslot', key])).stdout.trim());
      const nodesText = (await run('redis-cli', ['-p', String(live), 'cluster', 'nodes'])).stdout;
      for (const line of nodesText.trim().split('\n')) {
        const f = line.split(' ');
        // id addr flags master-id ping pong epoch link slot-ranges…
        if (!f[2]!.includes('master') || f[2]!.includes('fail')) continue;
        for (const range of f.slice(8)) {
          const [a, b] = range.split('-').map(Number);
          if (slot >= a! && slot <= (b ?? a!)) return Number(f[1]!.split(':')[1]!.split('@')[0]);
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async failOver(port) {
      const i = ports.indexOf(port);
      servers[i]!.kill('SIGKILL');
      await exited(servers[i]!);
      const others = ports.filter((p) => p !== port);
      await waitFor(
        async () => {
          const states = await Promise.all(others.map(async (p) => (await run('redis-cli', ['-p', String(p), 'cluster', 'info'])).stdout.includes('cluster_state:ok')));
          return states.every(Boolean);
        },
        { timeoutMs: 30_000, intervalMs: 200, what: 'the cluster whole again after a failover' },
      );
    },
    stop,
  };
}
