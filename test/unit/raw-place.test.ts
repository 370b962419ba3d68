// Where StorageType "cos" keeps the intermediate recording: the rule the gateway refuses by and the
// recorders write and recover by.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeStart } from '../../protocol/api.js';
import { rawPlaceOf } from '../../protocol/raw-place.js';

const start = (d: Record<string, unknown>) => normalizeStart({ RecordURL: 'http://a.test', ...d } as Parameters<typeof normalizeStart>[0]);

describe('rawPlaceOf', () => {
  it('is null for StorageType "cfs" (the default), whatever is configured', () => {
    assert.equal(rawPlaceOf('t1', start({}), { bucket: 'media-1250000000', region: 'ap-guangzhou', rawBucket: 'raw-1250000000' }), null);
    assert.equal(rawPlaceOf('t1', start({ StorageType: 'cfs' }), {}), null);
  });

  it('COS_BUCKET_RAW when set, in COS_REGION, under raw/<TaskID>/', () => {
    const r = start({ StorageType: 'cos', Output: { Cos: { Bucket: 'other-1250000001', Region: 'ap-shanghai' } } });
    assert.deepEqual(rawPlaceOf('t1', r, { region: 'ap-guangzhou', rawBucket: 'raw-1250000000' }), { bucket: 'raw-1250000000', region: 'ap-guangzhou', prefix: 'raw/t1/' });
  });

  it("else the output's bucket and region: the Start's own, or the deployment's default", () => {
    const own = start({ StorageType: 'cos', Output: { Cos: { Bucket: 'other-1250000001', Region: 'ap-shanghai' } } });
    assert.deepEqual(rawPlaceOf('t2', own, { bucket: 'media-1250000000', region: 'ap-guangzhou' }), { bucket: 'other-1250000001', region: 'ap-shanghai', prefix: 'raw/t2/' });
    const dflt = start({ StorageType: 'cos' });
    assert.deepEqual(rawPlaceOf('t3', dflt, { bucket: 'media-1250000000', region: 'ap-guangzhou' }), { bucket: 'media-1250000000', region: 'ap-guangzhou', prefix: 'raw/t3/' });
  });

  it('an output to VOD borrows no bucket: COS_BUCKET serves, else it names what is missing', () => {
    const vod = start({ StorageType: 'cos', Output: { Vod: {}, Cos: { Bucket: 'other-1250000001', Region: 'ap-shanghai' } } });
    assert.deepEqual(rawPlaceOf('t4', vod, { bucket: 'media-1250000000', region: 'ap-guangzhou' }), { bucket: 'media-1250000000', region: 'ap-guangzhou', prefix: 'raw/t4/' });
    const none = rawPlaceOf('t4', vod, {});
    assert.ok(none && 'error' in none);
    assert.match(none.error, /^Data\.StorageType "cos" needs a bucket: this service has no COS_BUCKET_RAW or COS_BUCKET \(VOD lends no bucket for it\)$/);
  });

  it('names the bucket or the region that is missing', () => {
    const noBucket = rawPlaceOf('t5', start({ StorageType: 'cos' }), { region: 'ap-guangzhou' });
    assert.ok(noBucket && 'error' in noBucket);
    assert.match(noBucket.error, /Data\.Output\.Cos\.Bucket is not given/);
    const noRegion = rawPlaceOf('t5', start({ StorageType: 'cos', Output: { Cos: { Bucket: 'other-1250000001' } } }), {});
    assert.ok(noRegion && 'error' in noRegion);
    assert.match(noRegion.error, /needs a region: Data\.Output\.Cos\.Region, or COS_REGION/);
  });
});
