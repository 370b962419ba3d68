// Settings: environment variables, read and validated once at start. A bad one stops start-up with
// one line naming it (SettingsError). README's settings table mirrors this file.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { COS_BUCKET_NAME } from '../protocol/api.js';
import { type ApiKey, parseApiKeys } from '../protocol/api-keys.js';
import { DEFAULT_REGION, parseRegionEndpoints, REGION_NAME as SERVICE_REGION } from '../protocol/region.js';
import { parseAllowlist, type UrlPolicy } from '../protocol/url-policy.js';
import { parseClusterNodes } from './redis-connect.js';
/** A Tencent Cloud region (COS, VOD). */
const REGION_NAME = /^[a-z]{2,}(?:-[a-z0-9]+)+$/;

export class SettingsError extends Error {}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: `must be an integer in [${min}, ${max}]` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `must be an integer in [${min}, ${max}]` })
        .max(max, { error: `must be an integer in [${min}, ${max}]` }),
    );

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
  REGION: z.string().trim().regex(SERVICE_REGION, { error: 'must be 1 to 32 of a-z, 0-9 and "-"' }).default(DEFAULT_REGION),
  /** `region=url,…`: where each region's hosts answer, for calls about other regions' tasks (README "Regions"). */
  REGION_ENDPOINTS: z.string().trim().optional(),
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
    // The guards are not the flags' to undo: the egress proxy (URL policy) and the sandbox.
    .refine((s) => !/(^|\s)--(proxy-server|proxy-pac-url|proxy-bypass-list|no-proxy-server|proxy-auto-detect|no-sandbox|host-resolver-rules)(=|\s|$)/i.test(s), {
      error:
        "must not set the proxy, the host resolver or --no-sandbox: every connection of the browser goes through the recorder's egress proxy (URL_ALLOWLIST), and the sandbox is CHROMIUM_NO_SANDBOX's",
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
  /** API key pairs: `key:secret[:Action|Action…]`, comma-separated. Without any, the API is open. */
  API_KEYS: z.string().optional(),
  /** A file with the same list (commas or one pair per line; `#` starts a comment line). */
  API_KEYS_FILE: z.string().trim().min(1).optional(),
  /** A PEM certificate (chain) and its key: the service listens with TLS on PORT. */
  TLS_CERT_FILE: z.string().trim().min(1).optional(),
  TLS_KEY_FILE: z.string().trim().min(1).optional(),
  /**
   * A recorder takes no new job while less than this is free under DATA_DIR; running recordings end
   * with what they hold when less than a quarter of it is left.
   */
  MIN_FREE_DISK_MB: int(1, 10_000_000).default(1024),
  /**
   * Memory a recording's browser may use (its cgroup's cap, where the machine offers cgroups): a page
   * over it loses its renderer and the task ends RecordFailed with what was recorded.
   */
  RECORDING_MEMORY_MB: int(64, 1_000_000).default(2048),
  /** The user each recording's Chromium runs as when the service runs as root (made by the set-up). */
  BROWSER_USER: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_-]*$/, { error: 'must be a user name' })
    .default('webrecord-browser'),
  /** 1: record without Chromium's sandbox, as the service's own user (unsafe for untrusted pages). */
  CHROMIUM_NO_SANDBOX: z.enum(['0', '1'], { error: 'must be 0 or 1' }).default('0'),
  /** Requests a second per API key (per client address in open mode); 0: no limit. */
  RATE_LIMIT: int(0, 1_000_000).default(0),
  /** Requests a client may send at once above the rate (default: RATE_LIMIT). */
  RATE_BURST: int(1, 1_000_000).optional(),
  /** Unfinished tasks the deployment takes at most; a Start over it is ResourceExhausted. 0: no cap. */
  MAX_TASKS: int(0, 100_000_000).default(0),
  /**
   * What RecordURL, CallbackURL and everything the recorded page loads may reach besides public
   * addresses: comma-separated hosts, host:ports, addresses and CIDRs (e.g. 127.0.0.1 for local pages).
   */
  URL_ALLOWLIST: z
    .string()
    .superRefine((s, ctx) => {
      try {
        parseAllowlist(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `must be comma-separated hosts, host:ports, addresses or CIDRs: ${(err as Error).message}` });
      }
    })
    .optional(),
  /** COS credentials (also VOD's unless VOD_SECRET_ID/KEY are given); a session token for temporary ones. */
  COS_SECRET_ID: z.string().trim().min(1).optional(),
  COS_SECRET_KEY: z.string().trim().min(1).optional(),
  COS_SESSION_TOKEN: z.string().trim().min(1).optional(),
  /** The deployment's default bucket (`name-appid`) and its region: results go there unless a Start names another. */
  COS_BUCKET: z.string().trim().regex(COS_BUCKET_NAME, { error: 'must be a COS bucket name, <name>-<appid> (e.g. media-1250000000)' }).optional(),
  COS_REGION: z.string().trim().regex(REGION_NAME, { error: 'must be a COS region such as ap-guangzhou' }).optional(),
  /** Where the intermediate recording goes with StorageType "cos" (default: the target bucket, under raw/). */
  COS_BUCKET_RAW: z.string().trim().regex(COS_BUCKET_NAME, { error: 'must be a COS bucket name, <name>-<appid> (e.g. raw-1250000000)' }).optional(),
  /** Every COS request goes to this address, keeping the bucket's host name (a private endpoint). */
  COS_ENDPOINT: url(['http:', 'https:']).optional(),
  VOD_SECRET_ID: z.string().trim().min(1).optional(),
  VOD_SECRET_KEY: z.string().trim().min(1).optional(),
  VOD_REGION: z.string().trim().regex(REGION_NAME, { error: 'must be a region such as ap-guangzhou' }).default('ap-guangzhou'),
  VOD_SUB_APP_ID: int(1, 2 ** 32 - 1).optional(),
  VOD_STORAGE_REGION: z.string().trim().regex(REGION_NAME, { error: 'must be a region such as ap-chongqing' }).optional(),
  /** Every VOD API request goes to this address, keeping VOD's host name and service in the signature. */
  VOD_ENDPOINT: url(['http:', 'https:']).optional(),
});

/** Every setting the service reads (the README's table and .env.example list each). */
export const SETTING_NAMES: readonly string[] = Object.keys(Env.shape);

export type CloudSettings = {
  cos: { credentials: { secretId: string; secretKey: string; token?: string }; bucket?: string; region?: string; rawBucket?: string; endpoint?: string } | null;
  vod: { credentials: { secretId: string; secretKey: string }; region: string; subAppId?: number; storageRegion?: string; endpoint?: string; cosEndpoint?: string } | null;
};

export type Settings = Omit<z.infer<typeof Env>, 'PUBLIC_URL' | 'DATA_DIR' | 'INTERNAL_URL' | 'API_KEYS' | 'REGION_ENDPOINTS'> & {
  DATA_DIR: string; // absolute
  PUBLIC_URL: string; // no trailing slash
  INTERNAL_URL: string; // no trailing slash
  /** From API_KEYS and API_KEYS_FILE together; empty: open mode. */
  apiKeys: ApiKey[];
  tls: { cert: Buffer; key: Buffer } | null;
  urlPolicy: UrlPolicy;
  /** COS and VOD, as far as configured. */
  cloud: CloudSettings;
  /** REGION_ENDPOINTS: the other regions (never this one) and where they answer. */
  regionEndpoints: Map<string, string>;
};

/** Settings whose value is never repeated back in an error (the line goes to logs). */
const SECRET_SETTING = /SECRET|API_KEYS|TOKEN/;

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
    const got = env[key] === undefined || SECRET_SETTING.test(key) ? '' : ` (got ${JSON.stringify(env[key])})`;
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
  const tls = readTls(s.TLS_CERT_FILE, s.TLS_KEY_FILE);
  const apiKeys = [...readApiKeys('API_KEYS', s.API_KEYS), ...readApiKeys('API_KEYS_FILE', s.API_KEYS_FILE && readSettingFile('API_KEYS_FILE', s.API_KEYS_FILE))];
  const twice = apiKeys.find((k, i) => apiKeys.findIndex((o) => o.key === k.key) !== i);
  if (twice) throw new SettingsError(`setting API_KEYS_FILE lists key ${JSON.stringify(twice.key)}, which API_KEYS lists too`);
  const publicHost = s.HOST === '0.0.0.0' || s.HOST === '::' ? '127.0.0.1' : s.HOST;
  const own = `${tls ? 'https' : 'http'}://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${s.PORT}`;
  const regionEndpoints = readRegionEndpoints(s.REGION_ENDPOINTS, s.REGION, s.CLUSTER_SECRET);
  const { API_KEYS: _keys, REGION_ENDPOINTS: _endpoints, ...rest } = s;
  return {
    ...rest,
    regionEndpoints,
    cloud: readCloud(s),
    apiKeys,
    tls,
    urlPolicy: parseAllowlist(s.URL_ALLOWLIST ?? ''),
    DATA_DIR: resolve(s.DATA_DIR),
    PUBLIC_URL: (s.PUBLIC_URL ?? own).replace(/\/+$/, ''),
    INTERNAL_URL: (s.INTERNAL_URL ?? own).replace(/\/+$/, ''),
  };
}

/** The other regions of REGION_ENDPOINTS; this region's own entry, if listed, is where it answers itself. */
function readRegionEndpoints(text: string | undefined, own: string, secret: string | undefined): Map<string, string> {
  let all: Map<string, string>;
  try {
    all = parseRegionEndpoints(text ?? '');
  } catch (err) {
    throw new SettingsError((err as Error).message);
  }
  all.delete(own);
  if (all.size > 0 && !secret) throw new SettingsError('setting CLUSTER_SECRET is required with REGION_ENDPOINTS: calls to other regions are signed with it');
  return all;
}

function readCloud(s: z.infer<typeof Env>): CloudSettings {
  const pair = (id: string, key: string) => {
    const [a, b] = [s[id as 'COS_SECRET_ID'], s[key as 'COS_SECRET_KEY']];
    if (a && !b) throw new SettingsError(`setting ${key} is required with ${id}`);
    if (b && !a) throw new SettingsError(`setting ${id} is required with ${key}`);
    return a && b ? { secretId: a, secretKey: b } : null;
  };
  const cosKeys = pair('COS_SECRET_ID', 'COS_SECRET_KEY');
  const vodKeys = pair('VOD_SECRET_ID', 'VOD_SECRET_KEY') ?? cosKeys;
  if ((s.COS_BUCKET || s.COS_BUCKET_RAW) && !s.COS_REGION) throw new SettingsError(`setting COS_REGION is required with ${s.COS_BUCKET ? 'COS_BUCKET' : 'COS_BUCKET_RAW'}`);
  if (!cosKeys && (s.COS_BUCKET || s.COS_BUCKET_RAW)) throw new SettingsError(`setting COS_SECRET_ID and COS_SECRET_KEY are required with ${s.COS_BUCKET ? 'COS_BUCKET' : 'COS_BUCKET_RAW'}`);
  const cos = cosKeys && {
    credentials: { ...cosKeys, ...(s.COS_SESSION_TOKEN ? { token: s.COS_SESSION_TOKEN } : {}) },
    ...(s.COS_BUCKET ? { bucket: s.COS_BUCKET } : {}),
    ...(s.COS_REGION ? { region: s.COS_REGION } : {}),
    ...(s.COS_BUCKET_RAW ? { rawBucket: s.COS_BUCKET_RAW } : {}),
    ...(s.COS_ENDPOINT ? { endpoint: s.COS_ENDPOINT } : {}),
  };
  const vod = vodKeys && {
    credentials: vodKeys,
    region: s.VOD_REGION,
    ...(s.VOD_SUB_APP_ID ? { subAppId: s.VOD_SUB_APP_ID } : {}),
    ...(s.VOD_STORAGE_REGION ? { storageRegion: s.VOD_STORAGE_REGION } : {}),
    ...(s.VOD_ENDPOINT ? { endpoint: s.VOD_ENDPOINT } : {}),
    ...(s.COS_ENDPOINT ? { cosEndpoint: s.COS_ENDPOINT } : {}),
  };
  return { cos, vod };
}

function readSettingFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SettingsError(`setting ${setting} names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}: ${JSON.stringify(path)})`);
  }
}

function readApiKeys(setting: string, text: string | Buffer | undefined): ApiKey[] {
  if (text === undefined) return [];
  try {
    const keys = parseApiKeys(text.toString());
    if (!keys.length) throw new Error('lists no key:secret pair');
    return keys;
  } catch (err) {
    throw new SettingsError(`setting ${setting}: ${(err as Error).message}`);
  }
}

function readTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | null {
  if (!certFile && !keyFile) return null;
  if (!certFile) throw new SettingsError('setting TLS_CERT_FILE is required with TLS_KEY_FILE');
  if (!keyFile) throw new SettingsError('setting TLS_KEY_FILE is required with TLS_CERT_FILE');
  const cert = readSettingFile('TLS_CERT_FILE', certFile);
  const key = readSettingFile('TLS_KEY_FILE', keyFile);
  if (!/-----BEGIN [A-Z ]*CERTIFICATE-----/.test(cert.toString())) {
    throw new SettingsError(`setting TLS_CERT_FILE must name a PEM certificate (${JSON.stringify(certFile)} holds none)`);
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key.toString())) {
    throw new SettingsError(`setting TLS_KEY_FILE must name a PEM private key (${JSON.stringify(keyFile)} holds none)`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new SettingsError(`setting TLS_KEY_FILE does not hold the key of TLS_CERT_FILE's certificate, or one of them is damaged (${(err as Error).message})`);
  }
  return { cert, key };
}
