// Who a recording's Chromium runs as. Recorded pages are untrusted: a page that exploits its renderer
// must meet Chromium's own sandbox (seccomp, namespaces) and, behind it, a user that owns nothing but
// its browser profile. Run as root, the recorder starts each Chromium as BROWSER_USER (made by the
// set-up) with the sandbox on; run as anyone else, as itself with the sandbox on. Without a sandbox
// (CHROMIUM_NO_SANDBOX=1, said loudly at start) it runs as before: as the recorder, --no-sandbox.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { chmod, chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { guardedCommand } from '../../lib/child-process.js';

export type BrowserIdentity =
  /** Root drops to this user; the sandbox on. */
  | { mode: 'user'; name: string; uid: number; gid: number }
  /** Not root: as the recorder's own user; the sandbox on. */
  | { mode: 'self' }
  /** CHROMIUM_NO_SANDBOX=1: as the recorder, no sandbox. */
  | { mode: 'none' };

export class SandboxUnavailable extends Error {}

/**
 * Where the profiles are made: under DATA_DIR (dirs().browsers) when the browser's user can pass down
 * to it; otherwise (DATA_DIR inside a home only its owner may enter, say) in the system's temp folder.
 */
export function profilesDirFor(dataDir: string, identity: BrowserIdentity): string {
  const inside = join(dataDir, 'browsers');
  if (identity.mode !== 'user') return inside;
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st || !(st.mode & 0o001)) return join(tmpdir(), `webrecord-browsers-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
    if (dir === dirname(dir)) return inside;
  }
}

export function resolveBrowserIdentity(o: { user: string; noSandbox: boolean }): BrowserIdentity {
  if (o.noSandbox) return { mode: 'none' };
  if (process.getuid?.() !== 0) return { mode: 'self' };
  const id = (flag: '-u' | '-g') => spawnSync('id', [flag, o.user], { encoding: 'utf8' });
  const [u, g] = [id('-u'), id('-g')];
  if (u.status !== 0 || g.status !== 0) {
    throw new SandboxUnavailable(`setting BROWSER_USER names a user that does not exist (${JSON.stringify(o.user)}); npm start's set-up makes webrecord-browser`);
  }
  const uid = Number(u.stdout.trim());
  if (uid === 0) throw new SandboxUnavailable(`setting BROWSER_USER must not be root (${JSON.stringify(o.user)})`);
  return { mode: 'user', name: o.user, uid, gid: Number(g.stdout.trim()) };
}

/** The flags and command prefix that start Chromium as `identity`. */
export function sandboxedCommand(identity: BrowserIdentity, chromium: string, flags: string[]): [string, string[]] {
  const runAs = identity.mode === 'user' ? { uid: identity.uid, gid: identity.gid } : undefined;
  return guardedCommand(chromium, identity.mode === 'none' ? ['--no-sandbox', ...flags] : flags, runAs);
}

/**
 * A fresh profile directory under `dir`, that only the browser's user can enter. Its own HOME too, so
 * that nothing Chromium writes lands anywhere else.
 */
export async function makeProfileDir(dir: string, identity: BrowserIdentity): Promise<string> {
  const profile = await mkdtemp(join(dir, 'chromium-'));
  if (identity.mode === 'user') await chown(profile, identity.uid, identity.gid);
  await chmod(profile, 0o700);
  return profile;
}

/**
 * DATA_DIR as the browser's user may see it: it may pass through DATA_DIR and the profiles' folder to
 * its own profile, and list or read nothing else (recordings, keys, other tasks, Redis' files).
 */
export async function lockDownDataDir(dataDir: string, profilesDir: string): Promise<void> {
  await mkdir(profilesDir, { recursive: true });
  await chmod(dataDir, 0o711);
  await chmod(profilesDir, 0o711);
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    const path = join(dataDir, entry.name);
    if (path === profilesDir) continue;
    if (entry.isDirectory()) await chmod(path, 0o700);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}

/**
 * Whether Chromium starts with its sandbox as `identity` on this machine (user namespaces, the setuid
 * helper or seccomp may be missing); throws SandboxUnavailable naming what it said.
 */
export async function probeSandbox(chromium: string, identity: BrowserIdentity, profilesDir: string): Promise<void> {
  if (identity.mode === 'none') return;
  const profile = await makeProfileDir(profilesDir, identity);
  try {
    const [file, args] = sandboxedCommand(identity, chromium, ['--headless=new', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, '--dump-dom', 'about:blank']);
    // Not spawnSync: the API may be answering already, and a blocked event loop fails its store calls.
    const r = await run(file, args, { timeoutMs: 30_000, env: { ...process.env, HOME: profile } });
    if (r.status !== 0 || !r.stdout.includes('<html')) {
      const said = (r.stderr || r.error?.message || `exit ${r.status}`).split('\n').find((l) => /sandbox|namespace|FATAL|error/i.test(l)) ?? r.stderr.split('\n')[0];
      throw new SandboxUnavailable(
        `Chromium's sandbox cannot start here${identity.mode === 'user' ? ` as ${identity.name}` : ''} (${(said ?? '').trim().slice(0, 300)}); set CHROMIUM_NO_SANDBOX=1 to record without it (unsafe for untrusted pages)`,
      );
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** Runs a command to its end, keeping what it printed. */
function run(file: string, args: string[], o: { timeoutMs: number; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-16_384)));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ status: null, stdout, stderr, error });
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
