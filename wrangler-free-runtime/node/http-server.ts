// The Node adapter: serves the edge app, the internal RPC between hosts (/internal/...) and the local
// storage target's files (/files/<TaskID>/...), over HTTP or, given a certificate, HTTPS.
import { mkdirSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { serve, type ServerType } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

export type HttpServer = { close(): Promise<void> };

/** The caller's address, from the bindings this adapter hands each request (for RATE_LIMIT in open mode). */
export function clientAddress(c: { env: unknown }): string | undefined {
  return (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
}

export function startHttpServer(
  edge: Hono<any>, // eslint-disable-line @typescript-eslint/no-explicit-any
  opts: { host: string; port: number; filesDir: string; internal?: Hono; tls?: { cert: Buffer; key: Buffer } },
): Promise<HttpServer> {
  // Made here too: an API-only service has no recorder to make it, and serveStatic warns without it.
  mkdirSync(opts.filesDir, { recursive: true });
  const root = new Hono();
  root.use('/files/*', async (c, next) => {
    await next();
    // Players want the HLS type; web players on other origins need CORS.
    if (c.res.ok && c.req.path.endsWith('.m3u8')) c.res.headers.set('Content-Type', 'application/vnd.apple.mpegurl');
    c.res.headers.set('Access-Control-Allow-Origin', '*');
  });
  root.use(
    '/files/*',
    serveStatic({
      root: opts.filesDir,
      rewriteRequestPath: (p) => p.replace(/^\/files/, ''),
      onFound: (_path, c) => {
        c.header('Cache-Control', 'no-cache');
        c.header('Accept-Ranges', 'bytes');
      },
    }),
  );
  if (opts.internal) root.route('/', opts.internal);
  root.route('/', edge);
  // Whatever no route took (a missing file, an unknown path) is answered by the edge, in its envelope.
  root.notFound((c) => edge.fetch(c.req.raw, c.env));
  return new Promise((resolve, reject) => {
    let server: ServerType;
    try {
      const tls = opts.tls ? { createServer: createHttpsServer, serverOptions: { cert: opts.tls.cert, key: opts.tls.key } } : {};
      server = serve({ fetch: root.fetch, hostname: opts.host, port: opts.port, ...tls }, () =>
        resolve({
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              // Keep-alive connections would hold close() open.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        }),
      );
      // Longer than the clients' own idle keep-alive (undici: 4 s, load balancers: 60 s), so the server
      // never closes an idle connection at the moment a client sends on it ("other side closed").
      const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
      http.keepAliveTimeout = 65_000;
      http.headersTimeout = 66_000;
      server.on('error', reject);
    } catch (err) {
      reject(err);
    }
  });
}
