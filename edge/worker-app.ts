// The edge app as an edge worker runs it (EdgeOne functions, workerd): settings from the runtime's
// own bindings, every region reached over the gateway RPC, the used signatures and RATE_LIMIT's
// counts kept in the store of the worker's own region. Authentication, validation, RequestID and
// error shapes are the edge app's, unchanged.
import type { Hono } from 'hono';
import type { EdgeEnv } from './envelope.js';
import { parseApiKeys } from '../protocol/api-keys.js';
import type { TaskGateway } from '../protocol/gateway.js';
import { parseRegionEndpoints, REGION_NAME } from '../protocol/region.js';
import { parseAllowlist } from '../protocol/url-policy.js';
import { createEdgeApp } from './app.js';
import { appAuth } from './app-auth.js';
import { HttpGateway } from './http-gateway.js';
import { rateLimit } from './rate-limit.js';
import { RegionGateway } from './region-gateway.js';

/** What a worker is configured with: the runtime's text bindings (environment variables). */
export type WorkerBindings = Partial<Record<'REGION' | 'REGION_ENDPOINTS' | 'CLUSTER_SECRET' | 'API_KEYS' | 'URL_ALLOWLIST' | 'RATE_LIMIT' | 'RATE_BURST' | 'PUBLIC_URL', unknown>>;

export class BindingError extends Error {}

const text = (b: WorkerBindings, name: keyof WorkerBindings): string | undefined => {
  const v = b[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BindingError(`binding ${name} must be text`);
  return v.trim();
};

const positive = (b: WorkerBindings, name: 'RATE_LIMIT' | 'RATE_BURST'): number | undefined => {
  const v = text(b, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1_000_000) throw new BindingError(`binding ${name} must be an integer in [1, 1000000]`);
  return Number(v);
};

/** The app, or a BindingError naming the binding at fault. */
export function createWorkerApp(b: WorkerBindings, o: { fetch?: typeof fetch } = {}): Hono<EdgeEnv> {
  const secret = text(b, 'CLUSTER_SECRET');
  if (!secret || secret.length < 16) throw new BindingError("binding CLUSTER_SECRET is required: the secret of the regions' hosts (at least 16 characters)");
  let endpoints: Map<string, string>;
  try {
    endpoints = parseRegionEndpoints(text(b, 'REGION_ENDPOINTS') ?? '', 'binding REGION_ENDPOINTS');
  } catch (err) {
    throw new BindingError((err as Error).message.replace(/^setting /, ''));
  }
  if (endpoints.size === 0) throw new BindingError('binding REGION_ENDPOINTS is required: region=url,… of the regions this worker serves');
  const own = text(b, 'REGION') ?? [...endpoints.keys()][0]!;
  if (!REGION_NAME.test(own) || !endpoints.has(own)) throw new BindingError(`binding REGION must be one of REGION_ENDPOINTS' regions (${[...endpoints.keys()].join(', ')})`);

  const regions = new Map<string, HttpGateway>();
  for (const [region, url] of endpoints) regions.set(region, new HttpGateway({ region, url, secret, ...(o.fetch ? { fetch: o.fetch } : {}) }));
  const home = regions.get(own)!;

  let keys: ReturnType<typeof parseApiKeys>;
  let urlPolicy: ReturnType<typeof parseAllowlist>;
  try {
    keys = parseApiKeys(text(b, 'API_KEYS') ?? '');
  } catch (err) {
    throw new BindingError(`binding API_KEYS: ${(err as Error).message}`);
  }
  try {
    urlPolicy = parseAllowlist(text(b, 'URL_ALLOWLIST') ?? '');
  } catch (err) {
    throw new BindingError(`binding URL_ALLOWLIST: ${(err as Error).message}`);
  }
  const perSecond = positive(b, 'RATE_LIMIT');
  const burst = positive(b, 'RATE_BURST') ?? perSecond;
  const publicUrl = text(b, 'PUBLIC_URL');

  return createEdgeApp({
    gateway: new RegionGateway(own, regions as Map<string, TaskGateway>),
    ...(keys.length ? { auth: appAuth({ keys, seen: home }) } : {}),
    ...(perSecond ? { rateLimit: rateLimit({ limiter: { take: (client) => home.take(client, perSecond, burst!) }, clientAddress: (c) => clientAddress(c.req.raw) }) } : {}),
    urlPolicy,
    console: { mediaOrigins: publicUrl ? [publicUrl] : [...endpoints.values()] },
    files: { own, ownIsLocal: false, endpoints },
  });
}

/** The caller's address as an edge runtime tells it: EdgeOne's request.eo, else the headers it sets. */
function clientAddress(req: Request): string | undefined {
  const eo = (req as Request & { eo?: { clientIp?: string } }).eo;
  return eo?.clientIp ?? req.headers.get('eo-connecting-ip') ?? req.headers.get('cf-connecting-ip') ?? undefined;
}
