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

const forbidden: Record<string, RegExp> = {
  edge: /^(node:|fs$|child_process$|ioredis$|puppeteer|pino$|ws$|\.\.\/(recorder|actors|wrangler-free-runtime|lib)\/)/,
  actors: /^(node:|ioredis$|puppeteer|child_process$|hono|pino$|ws$|\.\.\/(recorder|edge|wrangler-free-runtime|lib)\/)/,
  recorder: /^(hono|@hono\/|(\.\.\/)+(edge|actors|wrangler-free-runtime)\/)/,
  protocol: /^(node:|ioredis$|puppeteer|hono|pino$|ws$|(\.\.\/)+(edge|actors|recorder|wrangler-free-runtime|lib)\/)/,
  'wrangler-free-runtime': /^(\.\.\/)+edge\//,
};

describe('import rules between the rooms', () => {
  for (const [room, rule] of Object.entries(forbidden)) {
    it(`${room}/ imports only what it may`, () => {
      const files = sources(room);
      assert.ok(files.length > 0, `${room}/ has sources`);
      const offending = files.flatMap((f) => imports(f).filter((i) => rule.test(i)).map((i) => `${relative(ROOT, join(ROOT, f))} imports ${i}`));
      assert.deepEqual(offending, []);
    });
  }
});
