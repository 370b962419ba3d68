// The rooms of DESIGN.md: arrows go down only. Checked on every import of every source file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) return name === 'extension' ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

// main.ts composes the rooms and is the only file that may import them all.
const rooms = 'edge|client|cli|actors|tasks|bus|recorder|wrangler-free-runtime|lib';
const room = (names: string) => `(\\.\\.\\/)+(${names})\\/`;
const forbidden: Record<string, RegExp> = {
  // Web-standard only: runs on edge runtimes too.
  edge: new RegExp(`^(node:|fs$|child_process$|ioredis$|puppeteer|pino$|ws$|${room('recorder|client|actors|tasks|bus|wrangler-free-runtime|lib')})`),
  // The API's own client: web-standard (browsers, workers, Node); only the shared schemas' types.
  client: new RegExp(`^(node:|fs$|child_process$|ioredis$|puppeteer|hono|@hono\\/|pino$|ws$|${room('edge|recorder|actors|tasks|bus|wrangler-free-runtime|lib')})`),
  // Pure logic: no I/O of any kind.
  actors: new RegExp(`^(node:|ioredis$|puppeteer|child_process$|hono|pino$|ws$|${room('recorder|edge|tasks|bus|wrangler-free-runtime|lib')})`),
  // The task's own I/O beside the actor: on the generic runtime and the bus, never the recorder or the edge.
  tasks: new RegExp(`^(puppeteer|${room('recorder|edge')})`),
  // The generic runtime knows no kind of actor, no recorder, no edge.
  'wrangler-free-runtime': new RegExp(`^(puppeteer|${room('edge|actors|tasks|bus|recorder')})`),
  // The recorder bus: between the task runtime and the recorders, knowing neither.
  bus: new RegExp(`^(hono|@hono\\/|puppeteer|${room('edge|actors|tasks|recorder|wrangler-free-runtime')})`),
  recorder: new RegExp(`^(hono|@hono\\/|${room('edge|actors|tasks|wrangler-free-runtime')})`),
  // The terminal's client: the typed client and the shared schemas, with Node's own modules; no room of the service.
  cli: new RegExp(`^(ioredis$|puppeteer|hono|@hono\\/|pino$|${room('edge|recorder|actors|tasks|bus|wrangler-free-runtime|lib')})`),
  protocol: new RegExp(`^(node:|ioredis$|puppeteer|hono|pino$|ws$|${room(rooms)})`),
  // Neutral helpers: they may use the shared schemas, nothing of a room.
  lib: new RegExp(`^(hono|@hono\\/|puppeteer|${room('edge|actors|tasks|bus|recorder|wrangler-free-runtime')})`),
};

describe('import rules between the rooms', () => {
  for (const [room, rule] of Object.entries(forbidden)) {
    it(`${room}/ imports only what it may`, () => {
      const files = sources(room);
      assert.ok(files.length > 0, `${room}/ has sources`);
      const offending = files.flatMap((f) =>
        imports(f)
          .filter((i) => rule.test(i))
          .map((i) => `${relative(ROOT, join(ROOT, f))} imports ${i}`),
      );
      assert.deepEqual(offending, []);
    });
  }
});
