// Settings: environment variables, read and validated once at start. A bad one stops start-up with
// one line naming it (SettingsError). README's settings table mirrors this file.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseClusterNodes } from './redis-connect.js';

export class SettingsError extends Error {}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: `must be an integer in [${min}, ${max}]` })
    .transform(Number)
    .pipe(z.number().int().min(min, { error: `must be an integer in [${min}, ${max}]` }).max(max, { error: `must be an integer in [${min}, ${max}]` }));

const autoOrDecimal = (min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((s) => s === 'auto' || (/^\d+(\.\d+)?$/.test(s) && Number(s) >= min && Number(s) <= max), {
      error: `must be "auto" or a number in [${min}, ${max}]`,
    })
    .transform((s) => (s === 'auto' ? ('auto' as const) : Number(s)));

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (s) => {
        try {
          return protocols.includes(new URL(s).protocol);
        } catch {
          return false;
        }
      },
      { error: `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL` },
    );

const Env = z.object({
  PORT: int(1, 65535).default(8080),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Seed nodes of a Redis Cluster, comma-separated host:port (instead of REDIS_URL). */
  REDIS_CLUSTER_NODES: z
    .string()
    .trim()
    .superRefine((s, ctx) => {
      try {
        if (!parseClusterNodes(s).length) ctx.addIssue({ code: 'custom', message: 'must list at least one host:port' });
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `must be comma-separated host:port (${(err as Error).message})` });
      }
    })
    .optional(),
  /** Shared by every runtime host of a Redis: signs the internal calls between them. */
  CLUSTER_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  /** How peers reach this host's internal RPC (default http://HOST:PORT). */
  INTERNAL_URL: url(['http:', 'https:']).optional(),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  REGION: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, { error: 'must be 1 to 32 of a-z, 0-9 and "-"' })
    .default('default'),
  ROLE: z.enum(['all', 'api', 'recorder'], { error: 'must be "all", "api" or "recorder"' }).default('all'),
  RECORDER_SLOTS: int(1, 64).default(2),
  /** Chromium instances kept launched and ready for the next Start (0: launch on Start). */
  BROWSER_POOL: int(0, 16).default(1),
  /**
   * CPU cores one recording uses; a recorder already recording takes a job only with this much idle.
   * `auto`: measured from the recordings on this machine; a number: fixed; 0: no CPU check.
   */
  ADMISSION_CPU_CORES: autoOrDecimal(0, 64).default('auto'),
  /** Memory one recording is expected to use, all its processes (`npm run bench:record`); 0: no memory check. */
  ADMISSION_MEMORY_MB: int(0, 1_048_576).default(600),
  /** A recording capturing fewer frames per second than this for 10 s raises a warning (0: never). */
  FPS_WARNING_BELOW: int(0, 60).default(25),
  CHROMIUM_PATH: z.string().trim().min(1).default('/usr/bin/chromium'),
  /** Extra Chromium flags, space-separated (a proxy, a feature switch). */
  CHROMIUM_FLAGS: z
    .string()
    .trim()
    .refine((s) => s.split(/\s+/).every((f) => f === '' || /^--[a-z0-9-]+(=.*)?$/i.test(f)), {
      error: 'must be space-separated flags, each like --name or --name=value',
    })
    .default(''),
  FFMPEG_PATH: z.string().trim().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().trim().min(1).default('ffprobe'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  CALLBACK_SECRET: z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  CALLBACK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  CALLBACK_MAX_TRIES: int(1, 20).default(5),
  CALLBACK_FIRST_RETRY_MS: int(10, 600_000).default(10_000),
  HLS_SEGMENT_SECONDS: int(1, 60).default(4),
  /** Seals clients' HLS keys at rest; without it a random key is kept in DATA_DIR/secrets. */
  KEY_WRAP_SECRET: z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  TASK_TTL_DAYS: int(1, 3650).default(30),
  LEASE_TTL_MS: int(1000, 60_000).default(5000),
  /** How long a Start job may wait for a recorder before the task ends NoRecorder. */
  QUEUE_TIMEOUT_S: int(1, 86_400).default(600),
  SHUTDOWN_GRACE_MS: int(1000, 600_000).default(30_000),
});

export type Settings = Omit<z.infer<typeof Env>, 'PUBLIC_URL' | 'DATA_DIR' | 'INTERNAL_URL'> & {
  DATA_DIR: string; // absolute
  PUBLIC_URL: string; // no trailing slash
  INTERNAL_URL: string; // no trailing slash
};

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const known = Object.fromEntries(
    Object.keys(Env.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = Env.safeParse(known);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? 'settings');
    // A secret is never repeated back (the line goes to logs).
    const got = env[key] === undefined || /SECRET/.test(key) ? '' : ` (got ${JSON.stringify(env[key])})`;
    throw new SettingsError(`setting ${key} ${issue.message}${got}`);
  }
  const s = parsed.data;
  if (s.CHROMIUM_PATH.includes('/') && !existsSync(s.CHROMIUM_PATH) && s.ROLE !== 'api') {
    throw new SettingsError(`setting CHROMIUM_PATH must name an existing executable (got ${JSON.stringify(s.CHROMIUM_PATH)})`);
  }
  if (s.REDIS_URL && s.REDIS_CLUSTER_NODES) {
    throw new SettingsError('setting REDIS_CLUSTER_NODES cannot be used with REDIS_URL: give one of them');
  }
  if (s.ROLE === 'recorder' && !s.REDIS_URL && !s.REDIS_CLUSTER_NODES) {
    throw new SettingsError('setting REDIS_URL (or REDIS_CLUSTER_NODES) is required when ROLE is "recorder" (it must reach the runtime\'s Redis)');
  }
  const publicHost = s.HOST === '0.0.0.0' || s.HOST === '::' ? '127.0.0.1' : s.HOST;
  const own = `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${s.PORT}`;
  return {
    ...s,
    DATA_DIR: resolve(s.DATA_DIR),
    PUBLIC_URL: (s.PUBLIC_URL ?? own).replace(/\/+$/, ''),
    INTERNAL_URL: (s.INTERNAL_URL ?? own).replace(/\/+$/, ''),
  };
}
