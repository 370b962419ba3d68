// The browser's only way out (API.md "URL policy"): an HTTP proxy on loopback, one per browser, that
// resolves every name itself, checks every address against the URL policy and connects to the address
// it checked. Chromium is told to send everything here, loopback included (`<-loopback>`), so
// navigations, redirects, subresources, frames, workers, service workers, WebSockets, fetch, beacons
// and prefetches all pass the same check; only the capture's own WebSocket is let through as it is.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { PolicyBlocked, resolveChecked } from '../../lib/guarded-lookup.js';
import type { UrlPolicy } from '../../protocol/url-policy.js';

/** On the proxy's own refusal (a plain-HTTP request): why, so the navigation that met it can say. */
export const BLOCKED_HEADER = 'x-webrecord-blocked';

/** Told of each request refused: the host (as the page named it) and why. */
export type BlockedListener = (host: string, reason: string) => void;

// Headers of one hop, not passed on (RFC 9110 §7.6.1), and the proxy's own.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export class EgressProxy {
  onBlocked: BlockedListener | null = null;
  private readonly sockets = new Set<Socket>();
  /** The last failure to reach each host (its error code): the browser only sees a 502 or a failed tunnel. */
  private readonly failures = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    private readonly policy: UrlPolicy,
    /** host:port let through unchecked (the capture server). */
    private readonly exempt: () => readonly string[],
  ) {}

  static async start(policy: UrlPolicy, exempt: () => readonly string[]): Promise<EgressProxy> {
    const server = createServer();
    const proxy = new EgressProxy(server, policy, exempt);
    server.on('request', (req, res) => void proxy.forward(req, res));
    server.on('connect', (req, socket: Socket, head) => void proxy.tunnel(req, socket, head));
    server.on('upgrade', (req, socket: Socket) => void proxy.tunnel(req, socket, Buffer.alloc(0), true));
    server.on('connection', (s: Socket) => {
      proxy.sockets.add(s);
      s.once('close', () => proxy.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** For Chromium's `--proxy-server`. */
  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Why the last connection to `host` failed (e.g. ECONNREFUSED), if it did. */
  failureOf(host: string): string | undefined {
    return this.failures.get(host.replace(/^\[|\]$/g, ''));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** A plain-HTTP request, in absolute form (`GET http://host/path`). */
  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      return void res.writeHead(400).end();
    }
    const port = target.port ? Number(target.port) : 80;
    const address = await this.check(target.hostname, port);
    if (typeof address !== 'string') {
      return void res.writeHead(address.status, { 'content-type': 'text/plain', [BLOCKED_HEADER]: address.text }).end(address.text);
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
    headers.host = target.host;
    const upstream = httpRequest({ host: address, port, method: req.method, path: target.pathname + target.search, headers, setHost: false }, (up) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
      up.pipe(res);
      up.on('error', () => res.destroy());
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      this.failures.set(target.hostname.replace(/^\[|\]$/g, ''), err.code ?? err.message);
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { 'content-type': 'text/plain' }).end(`cannot reach ${target.host}: ${err.code ?? err.message}`);
    });
    req.pipe(upstream);
  }

  /** A CONNECT tunnel (HTTPS, WebSockets), or an upgrade request sent to the proxy. */
  private async tunnel(req: IncomingMessage, client: Socket, head: Buffer, upgrade = false): Promise<void> {
    client.on('error', () => client.destroy());
    const authority = upgrade ? (safeUrl(req.url)?.host ?? '') : (req.url ?? '');
    const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(authority) ?? /^([^:]+)$/.exec(authority);
    if (!m) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const host = m[1]!;
    const port = Number(m[2] ?? 80);
    const exempt = this.exempt().includes(`${host}:${port}`);
    const address = exempt ? host : await this.check(host, port);
    if (typeof address !== 'string') return void client.end(`HTTP/1.1 ${address.status} Blocked\r\ncontent-type: text/plain\r\n\r\n${address.text}`);
    const upstream = connect(port, address);
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      this.failures.set(host, err.code ?? err.message);
      if (!client.destroyed) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    upstream.on('connect', () => {
      if (upgrade) {
        // Replay the request line and headers to the origin, as a reverse hop would.
        const path = safeUrl(req.url)?.pathname ?? '/';
        const lines = [`${req.method} ${path} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) if (!/^proxy-/i.test(req.rawHeaders[i]!)) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      } else client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** The address to connect to, or the answer that refuses the request (reported once blocked). */
  private async check(host: string, port: number): Promise<string | { status: number; text: string }> {
    try {
      const [first] = await resolveChecked(this.policy, host, port);
      return first!.address;
    } catch (err) {
      if (err instanceof PolicyBlocked) {
        this.onBlocked?.(host, err.reason);
        return { status: 403, text: err.message };
      }
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      this.failures.set(host.replace(/^\[|\]$/g, ''), code);
      return { status: 502, text: `cannot resolve ${host}: ${code}` };
    }
  }
}

function safeUrl(text: string | undefined): URL | null {
  try {
    return new URL(text ?? '');
  } catch {
    return null;
  }
}
