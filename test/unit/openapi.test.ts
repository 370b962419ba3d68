// /openapi.json: an OpenAPI 3.1 document made from the zod schemas that check requests, so what it
// says a field takes is what the service takes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { createEdgeApp } from '../../edge/app.js';
import { StartData, TaskRef } from '../../protocol/api.js';
import type { StartRequest } from '../../protocol/api.js';
import type { TaskGateway } from '../../protocol/gateway.js';
import type { TaskQuery } from '../../protocol/listing.js';

// The document never reaches the task store: a gateway that fails any call shows it.
const untouched = new Proxy({} as TaskGateway, {
  get: () => () => {
    throw new Error('the gateway was called for /openapi.json');
  },
});

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  enum?: string[];
  const?: string;
  format?: string;
  $ref?: string;
  oneOf?: Schema[];
  title?: string;
};

async function fetchDocument() {
  const app = createEdgeApp({ gateway: untouched });
  const res = await app.request('/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as {
    openapi: string;
    paths: Record<string, { post?: unknown }>;
    components: { schemas: Record<string, Schema> };
  };
}

describe('/openapi.json', () => {
  it('is OpenAPI 3.1 with a POST on every API path and every Action: the six, and the two additions', async () => {
    const doc = await fetchDocument();
    assert.equal(doc.openapi, '3.1.0');
    for (const path of ['/', '/record', '/release/record', '/test/record', '/prepub/record']) assert.ok(doc.paths[path]?.post, `POST ${path}`);
    assert.deepEqual(
      doc.components.schemas.Request!.oneOf!.map((o) => o.properties!.Action!.const),
      ['Start', 'Pause', 'Resume', 'Refresh', 'Stop', 'Describe', 'ListTasks', 'DescribeRecorders'],
    );
    assert.deepEqual(doc.components.schemas.TaskRef!.required, ['TaskID']);
    const list = doc.components.schemas.ListTasksData!;
    assert.deepEqual([list.properties!.Limit!.minimum, list.properties!.Limit!.maximum], [1, 100]);
    assert.deepEqual(list.properties!.Status!.enum, ['normal', 'recording', 'paused', 'canceled', 'transcode', 'upload', 'callback', 'finished']);
    assert.ok(doc.components.schemas.RecorderView!.properties!.Load, 'the recorders answer is described');
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

  it('validates as OpenAPI 3.1', async () => {
    const validator = new Validator();
    const result = await validator.validate((await fetchDocument()) as unknown as Parameters<Validator['validate']>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors));
    assert.equal(validator.version, '3.1');
  });

  it('requests built from it are what the service takes: each Action, every integer at both ends of its range and every enum value; one past a range is refused by both', async () => {
    const doc = await fetchDocument();
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema({ ...doc, $id: 'openapi.json' });
    const allowed = ajv.getSchema('openapi.json#/components/schemas/Request')!;
    const schemas = doc.components.schemas;
    const resolve = (s: Schema): Schema => (s.$ref ? schemas[s.$ref.split('/').pop()!]! : s);
    /** A value the schema allows, taking each integer at `end` of its range and the `pick`th enum value; optional fields only where they are plain. */
    const build = (raw: Schema, end: 'minimum' | 'maximum', pick: number): unknown => {
      const s = resolve(raw);
      if (s.const !== undefined) return s.const;
      if (s.enum) return s.enum[pick % s.enum.length];
      if (s.type === 'integer') return s[end];
      if (s.type === 'boolean') return pick % 2 === 0;
      if (s.type === 'string') return s.format === 'uri' ? 'https://page.test/class/7' : 'x'.repeat(Math.max(1, s.minLength ?? 1));
      const out: Record<string, unknown> = {};
      for (const [name, p] of Object.entries(s.properties ?? {})) {
        const q = resolve(p);
        // Strings beside their URL say more than their schema can (a bucket's <name>-<appid>, a key's length): left out.
        const plain = q.type === 'integer' || q.type === 'boolean' || q.enum || (q.type === 'object' && !q.properties?.Bucket && !q.properties?.MediaInfo);
        if (s.required?.includes(name) || plain) out[name] = build(q, end, pick);
      }
      return out;
    };
    const started: StartRequest[] = [];
    const listed: TaskQuery[] = [];
    const gateway: TaskGateway = {
      start: async (r) => (started.push(r), { ok: true, TaskID: 'task-1', existed: false }),
      command: async () => ({ ok: true }),
      describe: async (id) => ({ TaskID: id, Status: 'recording', CreateTime: 1, Result: { Videos: [] } }),
      listTasks: async (q) => (listed.push(q), []),
      describeRecorders: async () => [],
      health: async () => ({ ok: true, detail: {} }),
    };
    const app = createEdgeApp({ gateway });
    const post = async (body: unknown) =>
      (await (await app.request('/record', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as { ErrorCode?: string; ErrorMessage?: string };
    let built = 0;
    for (const action of schemas.Request!.oneOf!) {
      for (const [end, pick] of [
        ['minimum', 0],
        ['maximum', 1],
      ] as const) {
        const request = build(action, end, pick) as { Action: string; Data: Record<string, unknown> };
        assert.ok(allowed(request), `the document allows ${JSON.stringify(request)}: ${JSON.stringify(allowed.errors)}`);
        const answer = await post(request);
        assert.equal(answer.ErrorCode, undefined, `${JSON.stringify(request)} → ${JSON.stringify(answer)}`);
        built++;
      }
    }
    assert.equal(built, 16);
    assert.equal(started.length, 2);
    assert.deepEqual(
      listed.map((q) => q.limit),
      [1, 100],
      'ListTasks takes its Limit at both ends',
    );
    assert.equal(started[1]!.Width, schemas.StartData!.properties!.Width!.maximum, 'the values arrive as sent');
    for (const field of ['Width', 'Height', 'MaxDurationLimit', 'ReadyTimeout']) {
      const request = { Action: 'Start', Data: { RecordURL: 'https://page.test/', [field]: schemas.StartData!.properties![field]!.maximum! + 1 } };
      assert.equal(allowed(request), false, `the document refuses ${field} past its maximum`);
      const answer = await post(request);
      assert.equal(answer.ErrorCode, 'InvalidParam');
      assert.match(answer.ErrorMessage ?? '', new RegExp(field));
    }
    for (const limit of [schemas.ListTasksData!.properties!.Limit!.minimum! - 1, schemas.ListTasksData!.properties!.Limit!.maximum! + 1]) {
      const request = { Action: 'ListTasks', Data: { Limit: limit } };
      assert.equal(allowed(request), false, `the document refuses Limit ${limit}`);
      const answer = await post(request);
      assert.equal(answer.ErrorCode, 'InvalidParam');
      assert.equal(answer.ErrorMessage, 'Data.Limit must be an integer in [1, 100]');
    }
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
