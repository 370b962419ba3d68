import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admit } from '../../recorder/admission.js';
import { CostCalibration } from '../../recorder/cost-calibration.js';

describe('recording cost calibration (ADMISSION_CPU_CORES=auto)', () => {
  it('starts from the guess and takes the first measurement whole', () => {
    const c = new CostCalibration(0.75, false);
    assert.equal(c.cores, 0.75);
    assert.equal(c.samples, 0);
    assert.equal(c.observe({ cores: 1.17, hostCores: 2, hostBusyCores: 1.3 }), true);
    assert.equal(c.cores, 1.17);
  });

  it('follows later measurements smoothly', () => {
    const c = new CostCalibration(0.75, false);
    c.observe({ cores: 1.0, hostCores: 2, hostBusyCores: 1.1 });
    c.observe({ cores: 2.0, hostCores: 4, hostBusyCores: 2.1 });
    assert.equal(c.cores, 1.3, 'one outlier moves the estimate 30% of the way');
    for (let i = 0; i < 20; i++) c.observe({ cores: 0.5, hostCores: 2, hostBusyCores: 0.6 });
    assert.ok(Math.abs(c.cores - 0.5) < 0.01, `converges on a lasting change (${c.cores})`);
  });

  it('ignores what a starved recording used: a saturated machine says nothing of the cost', () => {
    const c = new CostCalibration(0.75, false);
    assert.equal(c.observe({ cores: 0.6, hostCores: 2, hostBusyCores: 1.9 }), false);
    assert.equal(c.cores, 0.75);
    assert.equal(c.samples, 0);
  });

  it('ignores empty readings', () => {
    const c = new CostCalibration(0.75, false);
    assert.equal(c.observe({ cores: 0, hostCores: 2, hostBusyCores: 0.1 }), false);
    assert.equal(c.observe({ cores: Number.NaN, hostCores: 2, hostBusyCores: 0.1 }), false);
    assert.equal(c.cores, 0.75);
  });

  it('keeps a figure the operator set', () => {
    const c = new CostCalibration(1.5, true);
    assert.equal(c.observe({ cores: 0.7, hostCores: 2, hostBusyCores: 0.8 }), false);
    assert.equal(c.cores, 1.5);
  });

  it('a measured cost decides admission and the reason says it was measured', () => {
    const c = new CostCalibration(0.75, false);
    const load = { cores: 2, busyCores: 1.15, availableMemoryBytes: 8 * 1024 ** 3 };
    const cost = () => ({ cores: c.cores, memoryBytes: 0, measured: true });
    assert.equal(admit({ load, active: 1, starting: 0, slots: 3, cost: cost() }).take, true, 'the guess fits in 0.85 idle cores');
    c.observe({ cores: 1.12, hostCores: 2, hostBusyCores: 1.15 });
    const a = admit({ load, active: 1, starting: 0, slots: 3, cost: cost() });
    assert.deepEqual(a, { take: false, why: '0.85 idle cores, one more recording needs 1.12 (measured here, ADMISSION_CPU_CORES)' });
  });
});
