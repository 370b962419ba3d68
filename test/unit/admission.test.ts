import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecorderHeartbeat } from '../../protocol/recorder.js';
import { admit } from '../../recorder/admission.js';

const GB = 1024 ** 3;
const cost = { cores: 0.75, memoryBytes: 0.6 * GB };
const load = (busyCores: number, availableGb = 8) => ({ cores: 2, busyCores, availableMemoryBytes: availableGb * GB });

describe('admission by measured load', () => {
  it('an idle recorder takes a job even on a machine busy with something else', () => {
    assert.deepEqual(admit({ load: load(1.9, 0.1), active: 0, starting: 0, slots: 2, cost }), { take: true });
  });

  it('waits while the disk under DATA_DIR has less than MIN_FREE_DISK_MB free, idle or not', () => {
    const MB = 1024 * 1024;
    const full = admit({ load: load(0.1), active: 0, starting: 0, slots: 2, cost, disk: { free: 300 * MB, minFree: 1024 * MB } });
    assert.deepEqual(full, { take: false, why: '300 MB free under DATA_DIR, under MIN_FREE_DISK_MB (1024)' });
    assert.deepEqual(admit({ load: load(0.1), active: 0, starting: 0, slots: 2, cost, disk: { free: 2048 * MB, minFree: 1024 * MB } }), { take: true });
    assert.deepEqual(admit({ load: load(0.1), active: 0, starting: 0, slots: 2, cost, disk: { free: null, minFree: 1024 * MB } }), { take: true }, 'not read yet');
    // A folder recordings write into that is another disk (a shared intermediate mount) is named.
    const other = admit({ load: load(0.1), active: 0, starting: 0, slots: 2, cost, disk: { free: 10 * MB, minFree: 1024 * MB, where: '/data/cfs' } });
    assert.deepEqual(other, { take: false, why: '10 MB free under /data/cfs, under MIN_FREE_DISK_MB (1024)' });
  });

  it('takes a second recording while one more fits in the idle cores', () => {
    assert.deepEqual(admit({ load: load(0.8), active: 1, starting: 0, slots: 3, cost }), { take: true });
  });

  it('waits when the idle cores do not cover one more recording, naming the setting', () => {
    const a = admit({ load: load(1.5), active: 2, starting: 0, slots: 3, cost });
    assert.equal(a.take, false);
    assert.match(!a.take ? a.why : '', /0\.50 idle cores, one more recording needs 0\.75 \(ADMISSION_CPU_CORES\)/);
  });

  it('counts a recording that just started at its expected cost, before the measurement shows it', () => {
    assert.equal(admit({ load: load(0.2), active: 1, starting: 1, slots: 3, cost }).take, true);
    assert.equal(admit({ load: load(0.6), active: 1, starting: 1, slots: 3, cost }).take, false);
  });

  it('waits when memory is short', () => {
    const a = admit({ load: load(0.5, 0.5), active: 1, starting: 0, slots: 3, cost });
    assert.equal(a.take, false);
    assert.match(!a.take ? a.why : '', /512 MB available, one more recording needs 614 \(ADMISSION_MEMORY_MB\)/);
  });

  it('never goes beyond RECORDER_SLOTS, however idle the machine', () => {
    const a = admit({ load: { cores: 64, busyCores: 0, availableMemoryBytes: 100 * GB }, active: 2, starting: 0, slots: 2, cost });
    assert.equal(a.take, false);
    assert.match(!a.take ? a.why : '', /RECORDER_SLOTS/);
  });

  it('a cost of 0 turns that check off', () => {
    assert.equal(admit({ load: load(2, 0), active: 1, starting: 1, slots: 3, cost: { cores: 0, memoryBytes: 0 } }).take, true);
  });

  const peer = (recorderId: string, active: number, accepting: boolean): RecorderHeartbeat => ({
    recorderId,
    version: 't',
    slots: 3,
    active,
    accepting,
    recordingCores: 0.75,
    cores: 2,
    busyCores: 0.5,
    availableMemoryBytes: 8 * GB,
    at: 0,
  });

  it('a recorder already recording leaves a job to a peer that records fewer and is taking jobs', () => {
    const a = admit({ load: load(0.2), active: 1, starting: 0, slots: 3, cost, peers: [peer('rec-b', 0, true)] });
    assert.equal(a.take, false);
    assert.match(!a.take ? a.why : '', /recorder rec-b records fewer \(0\) and is taking jobs/);
  });

  it('but not to a peer that is not taking jobs, or records as many, and never when idle itself', () => {
    assert.equal(admit({ load: load(0.2), active: 1, starting: 0, slots: 3, cost, peers: [peer('rec-b', 0, false)] }).take, true);
    assert.equal(admit({ load: load(0.2), active: 1, starting: 0, slots: 3, cost, peers: [peer('rec-b', 1, true)] }).take, true);
    assert.equal(admit({ load: load(0.2), active: 0, starting: 0, slots: 3, cost, peers: [peer('rec-b', 0, true)] }).take, true);
  });
});
