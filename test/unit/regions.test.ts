// TaskIDs name their region; REGION_ENDPOINTS and the edge worker's bindings are read strictly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createWorkerApp } from '../../edge/worker-app.js';
import { newTaskId, parseRegionEndpoints, regionOf } from '../../protocol/region.js';
import { loadSettings } from '../../lib/settings.js';

describe('regions', () => {
  it('a new TaskID names its region, at most 128 characters; a bare UUID or any other string names none', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/), (region) => {
        const id = newTaskId(region);
        assert.ok(id.length <= 128);
        assert.equal(regionOf(id), region);
      }),
    );
    assert.equal(regionOf(crypto.randomUUID()), null);
    assert.equal(regionOf('x'), null);
    assert.equal(regionOf('Bad_Region-' + crypto.randomUUID()), null);
    fc.assert(fc.property(fc.string({ maxLength: 140 }), (s) => void regionOf(s)));
  });

  it('REGION_ENDPOINTS: region=url pairs, each mistake named', () => {
    assert.deepEqual(
      [...parseRegionEndpoints('a=http://127.0.0.1:1/, b-2 = https://b.example ')],
      [
        ['a', 'http://127.0.0.1:1'],
        ['b-2', 'https://b.example'],
      ],
    );
    assert.throws(() => parseRegionEndpoints('a'), /REGION_ENDPOINTS: "a" is not region=url/);
    assert.throws(() => parseRegionEndpoints('a=ftp://x'), /region a's URL must be http or https/);
    assert.throws(() => parseRegionEndpoints('a=nope'), /region a has no valid URL/);
    assert.throws(() => parseRegionEndpoints('a=http://x,a=http://y'), /names region a twice/);
  });

  it('settings: REGION_ENDPOINTS needs CLUSTER_SECRET; its own region is left out', () => {
    assert.throws(() => loadSettings({ REGION: 'a', REGION_ENDPOINTS: 'b=http://b.example', ROLE: 'api' }), /setting CLUSTER_SECRET is required with REGION_ENDPOINTS/);
    const s = loadSettings({ REGION: 'a', REGION_ENDPOINTS: 'a=http://a.example,b=http://b.example', CLUSTER_SECRET: 'x'.repeat(16), ROLE: 'api' });
    assert.deepEqual([...s.regionEndpoints.keys()], ['b']);
  });

  it("the edge worker's bindings: each mistake names the binding", () => {
    const ok = { CLUSTER_SECRET: 'x'.repeat(16), REGION_ENDPOINTS: 'a=http://a.example' };
    assert.ok(createWorkerApp(ok));
    assert.throws(() => createWorkerApp({ ...ok, CLUSTER_SECRET: undefined }), /binding CLUSTER_SECRET is required/);
    assert.throws(() => createWorkerApp({ ...ok, REGION_ENDPOINTS: '' }), /binding REGION_ENDPOINTS is required/);
    assert.throws(() => createWorkerApp({ ...ok, REGION: 'b' }), /binding REGION must be one of REGION_ENDPOINTS' regions \(a\)/);
    assert.throws(() => createWorkerApp({ ...ok, API_KEYS: 'k:short' }), /binding API_KEYS: key "k": the secret must be at least 8 characters/);
    assert.throws(() => createWorkerApp({ ...ok, RATE_LIMIT: 'many' }), /binding RATE_LIMIT must be an integer/);
  });
});
