// Runs the service as `npm start` does (its own process), for tests that go through HTTP. Calls go
// through the project's own client, signed with the first of API_KEYS when the service has keys.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { WebRecordClient } from '../../client/index.js';
import { parseApiKeys } from '../../protocol/api-keys.js';
import { findMarked } from '../../lib/child-process.js';
import { freePort } from '../../lib/net.js';
import { endsWithTestFile } from './children.js';
import { scratchDir } from './scratch.js';
import { waitFor } from './wait.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The tests' pages and hooks are served on 127.0.0.1: the URL policy is opened for it (and only it). */
export const TEST_ALLOWLIST = '127.0.0.1';
/** Test machines may have less free disk than a production recorder wants (MIN_FREE_DISK_MB). */
const TEST_MIN_FREE_DISK_MB = '64';

export type Answer = Record<string, any> & { RequestID: string }; // eslint-disable-line @typescript-eslint/no-explicit-any

export type RunningService = {
  url: string;
  /** The client the helpers use (signed when the service has API keys). */
  client: WebRecordClient;
  /** fetch that trusts the service's certificate (with TLS). */
  fetch: typeof fetch;
  dataDir: string;
  /** Every process the service started carries this in its environment. */
  runMarker: Record<string, string>;
  logFile: string;
  child: ChildProcess;
  api(action: string, data?: unknown): Promise<Answer>;
  post(body: string | Uint8Array, headers?: Record<string, string>, path?: string): Promise<{ status: number; json: Answer }>;
  waitForStatus(taskId: string, status: string | string[], timeoutMs?: number): Promise<Answer>;
  stop(signal?: NodeJS.Signals): Promise<void>;
};

/** A recorder on its own (ROLE=recorder), ready once it says so in its log. */
export type RecorderProcess = {
  child: ChildProcess;
  runMarker: Record<string, string>;
  logFile: string;
  /** Its id on the recorder bus (as its log says). */
  recorderId: string;
  /** Where its /healthz and /metrics answer. */
  url: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
};

export async function startRecorderProcess(env: Record<string, string>, dataDir: string): Promise<RecorderProcess> {
  const runMarker = { WEBRECORD_TEST_RUN: crypto.randomUUID() };
  const logFile = join(dataDir, `recorder-${runMarker.WEBRECORD_TEST_RUN}.log`);
  // Its /healthz and /metrics listen here (each recorder a port of its own).
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ENV_FILE: '',
      DATA_DIR: dataDir,
      ROLE: 'recorder',
      PORT: String(port),
      LOG_LEVEL: 'info',
      URL_ALLOWLIST: TEST_ALLOWLIST,
      MIN_FREE_DISK_MB: TEST_MIN_FREE_DISK_MB,
      ...runMarker,
      ...env,
    },
    stdio: ['ignore', out, out],
  });
  endsWithTestFile(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`recorder exited at start (log: ${logFile})`);
      return readFileSync(logFile, 'utf8').includes('recorder ready');
    },
    { timeoutMs: 60_000, what: 'the recorder to be ready' },
  );
  const ready = readFileSync(logFile, 'utf8')
    .split('\n')
    .find((l) => l.includes('"recorder ready"'));
  return {
    child,
    runMarker,
    logFile,
    recorderId: (JSON.parse(ready!) as { recorderId: string }).recorderId,
    url: `http://127.0.0.1:${port}`,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** A fetch that trusts `ca` besides the usual roots (a test's self-signed certificate). */
export function fetchTrusting(ca: Buffer): typeof fetch {
  const dispatcher = new Agent({ connect: { ca } });
  return ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as object), dispatcher })) as unknown as typeof fetch;
}

export async function startService(
  env: Record<string, string> = {},
  opts: { dataDir?: string; /** the certificate of TLS_CERT_FILE, to trust */ ca?: Buffer; path?: string; /** known before it starts (another host's settings name it) */ port?: number } = {},
): Promise<RunningService> {
  const dataDir = opts.dataDir ?? scratchDir('test');
  const port = opts.port ?? (await freePort());
  const runMarker = { WEBRECORD_TEST_RUN: crypto.randomUUID() };
  const logFile = join(dataDir, `service-${port}.log`);
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ENV_FILE: '', DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', URL_ALLOWLIST: TEST_ALLOWLIST, MIN_FREE_DISK_MB: TEST_MIN_FREE_DISK_MB, ...runMarker, ...env },
    stdio: ['ignore', out, out],
  });
  endsWithTestFile(child);
  const url = `${env.TLS_CERT_FILE ? 'https' : 'http'}://127.0.0.1:${port}`;
  const fetch = opts.ca ? fetchTrusting(opts.ca) : globalThis.fetch;
  const credentials = env.API_KEYS ? parseApiKeys(env.API_KEYS)[0] : undefined;
  const client = new WebRecordClient({ url, path: opts.path ?? '/', credentials, fetch });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`service exited at start (log: ${logFile})`);
      try {
        return (await fetch(`${url}/healthz`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, what: 'service health' },
  );

  const post = async (body: string | Uint8Array, headers: Record<string, string> = {}, path = '/') => {
    const res = await fetch(url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const text = await res.text();
    let json: Answer;
    try {
      json = JSON.parse(text) as Answer;
    } catch {
      throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 200)}`);
    }
    return { status: res.status, json };
  };
  const api = async (action: string, data?: unknown) => (await client.call(action as never, data)).answer as Answer;
  return {
    url,
    client,
    fetch,
    dataDir,
    runMarker,
    logFile,
    child,
    api,
    post,
    async waitForStatus(taskId, status, timeoutMs = 60_000) {
      const want = Array.isArray(status) ? status : [status];
      let last: Answer | null = null;
      await waitFor(
        async () => {
          last = await api('Describe', { TaskID: taskId });
          return want.includes(last.Status as string);
        },
        { timeoutMs, intervalMs: 100, what: () => `status ${want.join('|')} (last: ${JSON.stringify(last)})` },
      );
      return last!;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Live processes started by a test's service (Chromium, ffmpeg, redis-server, ...). */
export function processesOf(runMarker: Record<string, string>): number[] {
  return findMarked(runMarker);
}

/** The browser a task ran in, as its recorder logged it: its id and whether it came warm from the pool. */
export function browserOf(logFile: string, taskId: string): { id: string; warm: boolean } | null {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes(taskId) || !line.includes('"browser ready"')) continue;
    const entry = JSON.parse(line) as { browser: string; warm: boolean };
    return { id: entry.browser, warm: entry.warm };
  }
  return null;
}

/** Live processes of one task: its ffmpeg, and its browser whether launched for it or taken warm. */
export function processesOfTask(logFile: string, taskId: string): number[] {
  const browser = browserOf(logFile, taskId);
  return findMarked([{ WEBRECORD_TASK: taskId }, ...(browser ? [{ WEBRECORD_BROWSER: browser.id }] : [])]);
}
