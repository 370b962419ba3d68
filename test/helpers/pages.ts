// Serves the test pages on 127.0.0.1 and records what they report (POST /mark?frame=&id=).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGES = new URL('../fixtures/pages/', import.meta.url).pathname;

export type PageServer = {
  url(page: string, query?: Record<string, string | number>): string;
  marks: Map<string, number>;
  close(): Promise<void>;
};

export async function startPageServer(): Promise<PageServer> {
  const marks = new Map<string, number>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/mark') {
      marks.set(u.searchParams.get('id') ?? '', Number(u.searchParams.get('frame')));
      res.writeHead(204).end();
      return;
    }
    if (u.pathname === '/hang') {
      req.socket.setTimeout(0); // never answers: a page that does not finish loading
      hanging.add(res);
      return;
    }
    if (u.pathname === '/status/404') {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not here</h1>');
      return;
    }
    const name = u.pathname.replace(/^\//, '') || 'counter.html';
    if (!/^[a-z0-9-]+\.html$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const html = readFileSync(PAGES + name);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (page, query = {}) => {
      const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)] as [string, string])).toString();
      return `http://127.0.0.1:${port}/${page}${q ? `?${q}` : ''}`;
    },
    marks,
    close: () => {
      for (const res of hanging) res.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
