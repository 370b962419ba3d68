// Serves the test pages on 127.0.0.1 and records what they report (POST /mark?frame=&id=).
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const PAGES = new URL('../fixtures/pages/', import.meta.url).pathname;

export type PageServer = {
  url(page: string, query?: Record<string, string | number>): string;
  marks: Map<string, number>;
  /** What pages noted (POST /note?id=&text=), by id, in arrival order, with the arrival time (epoch ms). */
  notes: Map<string, { text: string; at: number }[]>;
  close(): Promise<void>;
};

/** Serves test/fixtures/pages on `host` (a loopback address: 127.0.0.1 unless a test needs another). */
export async function startPageServer(host = '127.0.0.1'): Promise<PageServer> {
  const marks = new Map<string, number>();
  const notes = new Map<string, { text: string; at: number }[]>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/mark') {
      marks.set(u.searchParams.get('id') ?? '', Number(u.searchParams.get('frame')));
      res.writeHead(204).end();
      return;
    }
    if (u.pathname === '/note') {
      const id = u.searchParams.get('id') ?? '';
      notes.set(id, [...(notes.get(id) ?? []), { text: u.searchParams.get('text') ?? '', at: Date.now() }]);
      res.writeHead(204).end();
      return;
    }
    if (u.pathname === '/redirect') {
      res.writeHead(302, { location: u.searchParams.get('to') ?? '/' }).end();
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
    if (!/^[a-z0-9-]+\.(html|js)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const html = readFileSync(PAGES + name);
      res.writeHead(200, { 'content-type': name.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8' }).end(html);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (page, query = {}) => {
      const q = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)] as [string, string])).toString();
      return `http://${host}:${port}/${page}${q ? `?${q}` : ''}`;
    },
    marks,
    notes,
    close: () => {
      for (const res of hanging) res.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
