// /openapi.json: an OpenAPI 3.1 document made from the zod schemas that check requests, so what it
// says a field takes is what the service takes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createEdgeApp } from '../../edge/app.js';
import { StartData, TaskRef } from '../../protocol/api.js';
import type { TaskGateway } from '../../protocol/gateway.js';

// The document never reaches the task store: a gateway that fails any call shows it.
const untouched = new Proxy({} as TaskGateway, {
  get: () => () => {
    throw new Error('the gateway was called for /openapi.json');
  },
});

type Schema = { type?: string; properties?: Record<string, Schema>; required?: string[]; minimum?: number; maximum?: number; maxLength?: number; enum?: string[] };

async function fetchDocument() {
  const app = createEdgeApp({ gateway: untouched });
  const res = await app.request('/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as {
    openapi: string;
    paths: Record<string, { post?: unknown }>;
    components: { schemas: Record<string, Schema & { oneOf?: { properties: { Action: { const: string } } }[] }> };
  };
}

describe('/openapi.json', () => {
  it('is OpenAPI 3.1 with a POST on every API path and the six Actions', async () => {
    const doc = await fetchDocument();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/', '/record', '/release/record', '/test/record', '/prepub/record']) assert.ok(doc.paths[path]?.post, `POST ${path}`);
    assert.deepEqual(
      doc.components.schemas.Request!.oneOf!.map((o) => o.properties.Action.const),
      ['Start', 'Pause', 'Resume', 'Refresh', 'Stop', 'Describe'],
    );
    assert.deepEqual(doc.components.schemas.TaskRef!.required, ['TaskID']);
  });

  it('names every Start field the schema takes, nested ones included, and no other', async () => {
    const { StartData: start } = (await fetchDocument()).components.schemas;
    assert.deepEqual(Object.keys(start!.properties!).sort(), Object.keys(StartData.shape).sort());
    assert.deepEqual(start!.required, ['RecordURL']);
    const output = start!.properties!.Output!.properties!;
    assert.deepEqual(Object.keys(output).sort(), ['Cos', 'Video', 'Vod']);
    assert.ok(output.Cos!.properties!.Bucket && output.Vod!.properties!.SourceContext);
    assert.equal(output.Vod!.properties!.SourceContext!.maxLength, 250);
    assert.deepEqual(start!.properties!.StorageType!.enum, ['cfs', 'cos']);
  });

  it('says the ranges the checks hold: an integer is taken exactly when the document allows it', async () => {
    const { StartData: start, TaskRef: ref } = (await fetchDocument()).components.schemas;
    for (const field of ['Width', 'Height', 'MaxDurationLimit', 'ReadyTimeout'] as const) {
      const { minimum, maximum } = start!.properties![field]!;
      fc.assert(
        fc.property(fc.integer({ min: -10, max: 40_000 }), (n) => {
          const taken = StartData.safeParse({ RecordURL: 'https://page.test/', [field]: n }).success;
          return taken === (n >= minimum! && n <= maximum!);
        }),
        { numRuns: 300 },
      );
    }
    const max = ref!.properties!.TaskID!.maxLength!;
    assert.equal(TaskRef.safeParse({ TaskID: 'x'.repeat(max) }).success, true);
    assert.equal(TaskRef.safeParse({ TaskID: 'x'.repeat(max + 1) }).success, false);
  });

  it('is answered the same each time, and is not an API path (POST is not found)', async () => {
    const app = createEdgeApp({ gateway: untouched });
    const [a, b] = await Promise.all([app.request('/openapi.json'), app.request('/openapi.json')]);
    assert.equal(await a.text(), await b.text());
    const post = await app.request('/openapi.json', { method: 'POST', body: '{}' });
    assert.equal(post.status, 404);
    assert.match(((await post.json()) as { RequestID: string }).RequestID, /^[0-9a-f]{32}$/);
  });
});
