// The edge worker's entry: a service-worker script, the form both EdgeOne edge functions and workerd
// run, with its settings as global text bindings (EdgeOne's environment variables). Bundled by
// `npm run build:edge` into dist/edge-worker.js (README "The edge on an edge runtime").
import type { Hono } from 'hono';
import type { EdgeEnv } from './envelope.js';
import { BindingError, createWorkerApp, type WorkerBindings } from './worker-app.js';

type FetchEventLike = Event & { request: Request; respondWith(r: Response | Promise<Response>): void };

let app: Hono<EdgeEnv> | BindingError | undefined;

function handle(request: Request): Response | Promise<Response> {
  if (app === undefined) {
    try {
      app = createWorkerApp(globalThis as unknown as WorkerBindings);
    } catch (err) {
      app = err instanceof BindingError ? err : new BindingError(String(err));
    }
  }
  if (app instanceof BindingError) {
    const body = { ErrorCode: 'ServiceUnavailable', ErrorMessage: `this edge worker is not configured: ${app.message}`, RequestID: crypto.randomUUID().replaceAll('-', '') };
    return new Response(JSON.stringify(body), { status: 503, headers: { 'content-type': 'application/json' } });
  }
  return app.fetch(request);
}

// Typed here: the edge's own types know no service worker scope, Node's no addEventListener.
const scope = globalThis as unknown as { addEventListener(type: 'fetch', listener: (event: FetchEventLike) => void): void };
scope.addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
