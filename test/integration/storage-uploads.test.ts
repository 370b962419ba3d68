// What goes up to COS while a recording is written, through the real SDK against the test's COS:
// the growing MP4 as the parts of one multipart upload, and the intermediate recording's raw chunks
// (StorageType "cos"), which must rebuild the file byte for byte even when uploads failed between.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../lib/logger.js';
import { CosStore } from '../../recorder/storage/cos-store.js';
import { FIRST_PART_BYTES, GrowingFileUpload } from '../../recorder/storage/growing-file-upload.js';
import { rebuildRaw, RawChunkUpload, removeRaw } from '../../recorder/storage/raw-chunks.js';
import { type FakeCos, startFakeCos } from '../helpers/fake-cos.js';
import { scratchDir } from '../helpers/scratch.js';
import { sleep, waitFor } from '../helpers/wait.js';

const BUCKET = 'raw-1250000000';
const REGION = 'ap-guangzhou';
const CREDENTIALS = { secretId: 'AKIDtestcos0000000000000000000000000', secretKey: 'test-cos-secret-key-0123456789abcdef' };
const log = createLogger('silent');
/** The SDK itself sends a request up to four times on a 5xx (at once, without back-off): a failure it shows took four. */
const SDK_TRIES = 4;

let cos: FakeCos;
let store: CosStore;
before(async () => {
  cos = await startFakeCos({ credentials: [CREDENTIALS] });
  // One try per request: a failure injected here is not hidden by the store's own retries.
  store = new CosStore(BUCKET, REGION, { credentials: CREDENTIALS, endpoint: cos.url, retries: { tries: 1, firstDelayMs: 0, maxDelayMs: 0 } }, log);
});
after(() => cos?.close());

/** The store, with keys under `dir`: a destination that is never opened anew. */
const under = (dir: string) => ({ store, keyFor: (name: string) => `${dir}${name}` });

/** A file being written as a recording is: `written` counts what was appended so far. */
function growing(dir: string, name: string) {
  const path = join(dir, name);
  writeFileSync(path, '');
  let written = 0;
  return {
    path,
    written: () => written,
    append(bytes: Buffer) {
      appendFileSync(path, bytes);
      written += bytes.length;
    },
  };
}

describe('raw chunks of the intermediate recording', () => {
  it('go up each second while the file grows; with uploads failing between, the bucket still rebuilds it byte for byte; removal empties the prefix', async () => {
    const dir = scratchDir('raw-chunks');
    const raw = { store, prefix: 'raw/task-a/' };
    const file = growing(dir, '1.mkv');
    const upload = new RawChunkUpload(raw, 1, file.path, file.written, log);
    upload.start();
    for (let i = 0; i < 20; i++) {
      file.append(randomBytes(10_000 + i * 3000));
      if (i === 4) cos.failNext(SDK_TRIES, { op: 'putObject' }); // one upload fails (all the SDK's sends of it)
      await sleep(300);
    }
    await waitFor(() => cos.log.filter((r) => r.op === 'putObject' && r.status === 503).length >= SDK_TRIES, { timeoutMs: 5000, what: 'a failed upload' });
    cos.failNext(0, { op: 'putObject' }); // COS is back
    const beforeClose = upload.uploaded;
    assert.ok(beforeClose > 0 && beforeClose <= file.written(), `${beforeClose} of ${file.written()} bytes up before close`);
    file.append(randomBytes(5000)); // the last bytes, written just before Stop
    await upload.close();
    assert.equal(upload.uploaded, file.written(), 'everything went up by the close');
    const puts = cos.log.filter((r) => r.op === 'putObject' && r.key.startsWith(raw.prefix));
    assert.ok(puts.filter((r) => r.status === 200).length >= 3, `several chunks, not one (${puts.length} puts)`);

    const { files, gaps } = await rebuildRaw(raw, join(dir, 'rebuilt'));
    assert.deepEqual(gaps, []);
    assert.deepEqual([...files.keys()], [1]);
    assert.ok(readFileSync(files.get(1)!).equals(readFileSync(file.path)), 'the rebuilt file is the file');

    await removeRaw(raw);
    assert.deepEqual(cos.keys(BUCKET, raw.prefix), []);
  });

  it('rebuilds each attempt on its own, and an attempt only up to its first missing piece', async () => {
    const dir = scratchDir('raw-gap');
    const raw = { store, prefix: 'raw/task-b/' };
    const kept: Buffer[] = [];
    for (const attempt of [1, 2]) {
      const file = growing(dir, `${attempt}.mkv`);
      const upload = new RawChunkUpload(raw, attempt, file.path, file.written, log);
      upload.start();
      for (let i = 0; i < 3; i++) {
        file.append(randomBytes(20_000));
        await sleep(1100);
      }
      await upload.close();
      kept.push(readFileSync(file.path));
    }
    const second = cos.keys(BUCKET, `${raw.prefix}2/`).sort();
    assert.ok(second.length >= 2, `attempt 2 went up in pieces (${second.join(', ')})`);
    await store.remove([second[1]!]); // a piece lost
    const firstPieceBytes = (await store.get(second[0]!)).length;

    const { files, gaps } = await rebuildRaw(raw, join(dir, 'rebuilt'));
    assert.deepEqual(gaps, [2]);
    assert.ok(readFileSync(files.get(1)!).equals(kept[0]!), 'attempt 1 whole');
    assert.ok(readFileSync(files.get(2)!).equals(kept[1]!.subarray(0, firstPieceBytes)), 'attempt 2 up to the lost piece');
    await removeRaw(raw);
  });
});

describe('the growing MP4 as a multipart upload', () => {
  it('whole parts go up as the file grows, each but the last at least 1 MiB; the finished object is the file', async () => {
    const dir = scratchDir('growing');
    const file = growing(dir, 'a.mp4');
    const upload = new GrowingFileUpload(under('out/'), 'a.mp4', file.path, 'video/mp4');
    const seen = cos.log.length;
    for (let i = 0; i < 7; i++) {
      file.append(randomBytes(FIRST_PART_BYTES / 2 + 1000));
      await upload.step();
    }
    assert.equal(upload.parts, 3, 'three whole parts of 3.5 MiB written, none sent twice');
    file.append(randomBytes(12_345)); // the tail: the last fragment and the index
    await upload.finish();
    const ops = cos.log.slice(seen).filter((r) => r.key === 'out/a.mp4');
    const parts = ops.filter((r) => r.op === 'uploadPart');
    assert.equal(parts.length, 4);
    assert.equal(ops.filter((r) => r.op === 'initiateMultipart').length, 1);
    assert.equal(ops.filter((r) => r.op === 'completeMultipart').length, 1);
    assert.ok(cos.object(BUCKET, 'out/a.mp4')!.equals(readFileSync(file.path)), 'the object is the file');
  });

  it('a file under one part that never grew past it: one plain put, no multipart', async () => {
    const dir = scratchDir('growing-small');
    const file = growing(dir, 'b.mp4');
    const upload = new GrowingFileUpload(under('out/'), 'b.mp4', file.path, 'video/mp4');
    file.append(randomBytes(300_000));
    await upload.step();
    await upload.finish();
    const ops = cos.log.filter((r) => r.key === 'out/b.mp4').map((r) => r.op);
    assert.deepEqual(ops, ['putObject']);
    assert.ok(cos.object(BUCKET, 'out/b.mp4')!.equals(readFileSync(file.path)));
  });

  it('a destination opened anew (its rights ran out): the old upload is dropped and the whole file goes up again under the new key', async () => {
    const dir = scratchDir('growing-renewed');
    const file = growing(dir, 'd.mp4');
    let folder = 'first/';
    let renewNow = false;
    const place = {
      store,
      keyFor: (name: string) => `${folder}${name}`,
      renew: async () => {
        if (!renewNow) return false;
        renewNow = false;
        folder = 'second/';
        return true;
      },
    };
    const upload = new GrowingFileUpload(place, 'd.mp4', file.path, 'video/mp4');
    const seen = cos.log.length;
    file.append(randomBytes(2 * FIRST_PART_BYTES + 10));
    await upload.step();
    assert.equal(upload.parts, 2);
    renewNow = true;
    file.append(randomBytes(FIRST_PART_BYTES));
    await upload.step();
    assert.equal(upload.parts, 3, 'all three whole parts sent again, to the new key');
    file.append(randomBytes(5000));
    await upload.finish();
    const ops = (key: string) =>
      cos.log
        .slice(seen)
        .filter((r) => r.key === key)
        .map((r) => r.op);
    assert.deepEqual(ops('first/d.mp4'), ['initiateMultipart', 'uploadPart', 'uploadPart', 'abortMultipart']);
    assert.deepEqual(ops('second/d.mp4'), ['initiateMultipart', 'uploadPart', 'uploadPart', 'uploadPart', 'uploadPart', 'completeMultipart']);
    assert.equal(cos.object(BUCKET, 'first/d.mp4'), null);
    assert.ok(cos.object(BUCKET, 'second/d.mp4')!.equals(readFileSync(file.path)), 'the object under the new key is the file');
  });

  it('a part that fails is sent again at the next step, not skipped', async () => {
    const dir = scratchDir('growing-fail');
    const file = growing(dir, 'c.mp4');
    const upload = new GrowingFileUpload(under('out/'), 'c.mp4', file.path, 'video/mp4');
    file.append(randomBytes(FIRST_PART_BYTES + 10));
    cos.failNext(SDK_TRIES, { op: 'uploadPart' });
    await assert.rejects(upload.step());
    assert.equal(upload.parts, 0);
    file.append(randomBytes(FIRST_PART_BYTES));
    await upload.step();
    assert.equal(upload.parts, 2);
    await upload.finish();
    assert.ok(cos.object(BUCKET, 'out/c.mp4')!.equals(readFileSync(file.path)), 'the object is the file');
  });
});
