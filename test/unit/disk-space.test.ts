import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diskFault, diskFaultIn, mentionsDiskFault } from '../../lib/disk-space.js';

describe('what a failed write says about the disk', () => {
  it('names the fault and the place from an error code', () => {
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    assert.equal(diskFault(err, '/data/cfs/t/1.mkv'), 'the disk is full (ENOSPC) writing /data/cfs/t/1.mkv');
    assert.equal(diskFault({ code: 'EDQUOT' }, '/d'), 'the disk quota is used up (EDQUOT) writing /d');
    assert.equal(diskFault({ code: 'EIO' }, '/d'), 'the disk failed (EIO) writing /d');
    assert.equal(diskFault({ code: 'EACCES' }, '/d'), null, 'not the disk');
    assert.equal(diskFault(null, '/d'), null);
  });

  it("reads ffmpeg's own words for it", () => {
    const said = '[mp4 @ 0x55d1] Error writing trailer of /data/tmp/t-1.mp4: No space left on device\n';
    assert.equal(mentionsDiskFault(said), true);
    assert.equal(diskFaultIn(said, '/data/tmp/t-1.mp4'), 'the disk is full (ENOSPC) writing /data/tmp/t-1.mp4');
    assert.equal(diskFaultIn('av_interleaved_write_frame(): Disk quota exceeded', '/x'), 'the disk quota is used up (EDQUOT) writing /x');
    assert.equal(diskFaultIn('Error opening output /x: Read-only file system', '/x'), 'the disk is read-only (EROFS) writing /x');
    assert.equal(diskFaultIn('Conversion failed!', '/x'), null);
  });
});
