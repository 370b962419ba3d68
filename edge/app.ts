// The edge: a stateless Hono app (web-standard APIs only) that authenticates, validates and routes
// each Action to the task gateway. One adapter per runtime serves it (see wrangler-free-runtime/).
import { zValidator } from '@hono/zod-validator';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { API_PATHS, Envelope, firstIssue } from '../protocol/api.js';
import { InvalidParamError, ServiceUnavailableError, type TaskGateway } from '../protocol/gateway.js';
import { openApiDocument } from '../protocol/openapi.js';
import { DEFAULT_POLICY, type UrlPolicy } from '../protocol/url-policy.js';
import { runAction } from './actions.js';
import { refuseAction } from './app-auth.js';
import { consoleApp, type ConsoleOptions } from './console/routes.js';
import { type EdgeEnv, fail } from './envelope.js';
import { type FilesProxyOptions, mountFilesProxy } from './files-proxy.js';

export const MAX_BODY_BYTES = 64 * 1024;
const JSON_TYPE = /^application\/([\w.-]+\+)?json$/;

export type EdgeLog = {
  error(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
};

export type EdgeDeps = {
  gateway: TaskGateway;
  /** The authentication (appAuth, API.md "Authentication"); without it the API is open. */
  auth?: MiddlewareHandler<EdgeEnv>;
  log?: EdgeLog;
  /** RATE_LIMIT (edge/rate-limit.ts), after authentication: per key, or per address in open mode. */
  rateLimit?: MiddlewareHandler<EdgeEnv>;
  /** Where RecordURL and CallbackURL may point (API.md "URL policy"); default: public addresses only. */
  urlPolicy?: UrlPolicy;
  /** Told of every answered API request: its Action (`-` when none was read), ErrorCode (`OK`) and time. */
  observe?: (action: string, code: string, seconds: number) => void;
  /** The host's metrics in Prometheus text, served at /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** The operator console at /console (README "Console"). */
  console?: ConsoleOptions;
  /** Files of other regions' tasks, fetched from there (README "Regions"). */
  files?: FilesProxyOptions;
};

export function createEdgeApp(deps: EdgeDeps): Hono<EdgeEnv> {
  // Not strict: `/record/` is `/record`, as behind the original's gateway.
  const app = new Hono<EdgeEnv>({ strict: false });

  app.get('/healthz', async (c) => {
    const health = await deps.gateway.health();
    return c.json(health, health.ok ? 200 : 503);
  });

  // Made once, on first ask: the document only changes with the code.
  let openApi: Record<string, unknown> | null = null;
  app.get('/openapi.json', (c) => c.json((openApi ??= openApiDocument())));

  app.route('/console', consoleApp(deps.console));
  if (deps.files) mountFilesProxy(app, deps.files);

  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (c) => {
      const { contentType, body } = await metrics();
      return c.body(body, 200, { 'content-type': contentType });
    });
  }

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => fail(c, 'RequestTooLarge', `request body is over ${MAX_BODY_BYTES} bytes`, 413),
  });
  // One guard for size and type, before auth and before the body is read (each layer costs on every
  // call). With a Content-Length the header decides, without touching the body: counting the body as
  // a stream makes the Node adapter build a full Request per call.
  const guard: MiddlewareHandler<EdgeEnv> = async (c, next) => {
    const length = c.req.header('content-length');
    const counted = length === undefined || c.req.header('transfer-encoding') !== undefined;
    if (!counted && (!/^\d+$/.test(length) || Number(length) > MAX_BODY_BYTES)) {
      return fail(c, 'RequestTooLarge', `request body is over ${MAX_BODY_BYTES} bytes`, 413);
    }
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (!JSON_TYPE.test(type)) return fail(c, 'InvalidParam', 'Content-Type must be application/json');
    return counted ? limit(c, next) : next();
  };
  const pass: MiddlewareHandler<EdgeEnv> = (_c, next) => next();
  const observe = deps.observe;
  const timed: MiddlewareHandler<EdgeEnv> = observe
    ? async (c, next) => {
        const t0 = performance.now();
        await next();
        observe(c.get('action') ?? '-', c.get('errorCode') ?? 'OK', (performance.now() - t0) / 1000);
      }
    : pass;
  const auth = deps.auth ?? pass;
  const rate = deps.rateLimit ?? pass;
  const validate = zValidator(
    'json',
    Envelope,
    (result, c) => {
      if (!result.success) return fail(c, 'InvalidParam', firstIssue(result.error));
    },
    // The envelope has no async refinements; the sync parse spares a promise per call.
    { validationFunction: (schema, value) => schema.safeParse(value) },
  );
  for (const path of API_PATHS) {
    app.post(path, timed, guard, auth, rate, validate, (c) => {
      const { Action, Data } = c.req.valid('json');
      c.set('action', Action);
      return refuseAction(c, Action) ?? runAction(c, deps.gateway, deps.urlPolicy ?? DEFAULT_POLICY, Action, Data ?? {});
    });
    app.all(path, (c) => {
      c.header('Allow', 'POST');
      return fail(c, 'MethodNotAllowed', `${c.req.method} is not allowed on ${c.req.path}; POST the request`, 405);
    });
  }

  app.notFound((c) => fail(c, 'NotFound', `no such endpoint: ${c.req.method} ${c.req.path.slice(0, 200)}; POST to / or /record (or /release/record)`, 404));
  app.onError((err, c) => {
    if (err instanceof ServiceUnavailableError) return fail(c, 'ServiceUnavailable', err.message, 503);
    if (err instanceof InvalidParamError) return fail(c, 'InvalidParam', err.message);
    if (err instanceof HTTPException && err.status === 400) {
      return fail(c, 'InvalidParam', 'request body is not valid JSON');
    }
    if (err instanceof HTTPException) return fail(c, 'InvalidParam', err.message, err.status as 400);
    deps.log?.error({ err: String(err), stack: err instanceof Error ? err.stack : undefined }, 'request failed');
    return fail(c, 'InternalError', 'the service could not answer this request; try again');
  });
  return app;
}
