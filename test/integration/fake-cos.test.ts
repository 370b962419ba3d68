// The fake COS (test/helpers/fake-cos.ts) against the real cos-nodejs-sdk-v5: with `Ip` the SDK
// sends every request to the fake on 127.0.0.1 while signing, and sending as Host, the bucket's own
// host name. The fake must take what the SDK signs rightly and refuse the rest, as COS would; a few
// hand-made requests show it recomputes the signature rather than trusting its shape.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import COS from 'cos-nodejs-sdk-v5';
import { type CosRequest, type FakeCos, startFakeCos } from '../helpers/fake-cos.js';

const BUCKET = 'media-1250000000';
const REGION = 'ap-guangzhou';
const HOST = `${BUCKET}.cos.${REGION}.myqcloud.com`;
const OWNER = { secretId: 'AKIDfakeCosOwner0123456789abcdef', secretKey: 'fake-cos-owner-secret-key-0123456' };
const MiB = 1024 * 1024;
const where = (Key: string) => ({ Bucket: BUCKET, Region: REGION, Key });

let cos: FakeCos;

before(async () => {
  cos = await startFakeCos({ credentials: [OWNER] });
  assert.match(cos.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});
after(() => cos?.close());

/** An SDK client that can only ever reach `fake` (on loopback): anything else throws before it is sent. */
function client(fake: FakeCos, o: { secretId?: string; secretKey?: string; token?: string; timeoutMs?: number } = {}): COS {
  const c = new COS({
    SecretId: o.secretId ?? OWNER.secretId,
    SecretKey: o.secretKey ?? OWNER.secretKey,
    ...(o.token ? { SecurityToken: o.token } : {}),
    Protocol: 'http:',
    Ip: fake.ip,
    AutoSwitchHost: false,
    Timeout: o.timeoutMs ?? 10_000,
  });
  c.on('before-send', (opt: { url: string }) => {
    if (!opt.url.startsWith(`${fake.url}/`)) throw new Error(`the SDK was about to leave loopback: ${opt.url}`);
  });
  return c;
}

/** The log from `from` on, as `op status` strings. */
function seen(from: number, fake = cos): string[] {
  return fake.log.slice(from).map((r: CosRequest) => `${r.op} ${r.status}`);
}

/** Asserts the promise is refused with this status and COS error code. */
async function refused(p: Promise<unknown>, statusCode: number, code: string): Promise<void> {
  await assert.rejects(p, (e: COS.CosSdkError) => {
    assert.equal(e.statusCode, statusCode, `status of ${JSON.stringify(e)}`);
    assert.equal(e.code, code, `code of ${JSON.stringify(e)}`);
    return true;
  });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('objects', () => {
  test('putObject, getObject, headObject, deleteObject: the bytes sent are the bytes stored and read back', async () => {
    const c = client(cos);
    const key = 'dir/round trip ü+&(1)!.mp4'; // characters the path and the signature must agree on
    const body = randomBytes(300 * 1024);
    const from = cos.log.length;

    const put = await c.putObject({ ...where(key), Body: body, ContentType: 'video/mp4' });
    assert.equal(put.statusCode, 200);
    assert.equal(put.ETag, `"${md5(body)}"`);
    assert.ok(put.RequestId, 'x-cos-request-id answered');
    assert.deepEqual(cos.object(BUCKET, key), body);
    assert.equal(cos.contentType(BUCKET, key), 'video/mp4');
    assert.deepEqual(cos.keys(BUCKET, 'dir/'), [key]);

    const got = await c.getObject(where(key));
    assert.deepEqual(got.Body, body);
    assert.equal(got.headers?.['content-type'], 'video/mp4');

    const head = await c.headObject(where(key));
    assert.equal(head.headers?.['content-length'], String(body.length));
    assert.equal(head.ETag, `"${md5(body)}"`);

    const del = await c.deleteObject(where(key));
    assert.equal(del.statusCode, 204);
    assert.equal(cos.object(BUCKET, key), null);
    assert.deepEqual(cos.keys(BUCKET, 'dir/'), []);
    await refused(c.getObject(where(key)), 404, 'NoSuchKey');

    assert.deepEqual(seen(from), ['putObject 200', 'getObject 200', 'headObject 200', 'deleteObject 204', 'getObject 404']);
    assert.ok(cos.log.slice(from).every((r) => r.bucket === BUCKET && r.key === key));
    assert.equal(cos.log[from]!.size, body.length);
  });

  test('a wrong SecretKey is refused with SignatureDoesNotMatch, an unknown SecretId with InvalidAccessKeyId; nothing is stored', async () => {
    const from = cos.log.length;
    await refused(client(cos, { secretKey: 'not-the-secret' }).putObject({ ...where('refused/a'), Body: Buffer.from('x') }), 403, 'SignatureDoesNotMatch');
    await refused(client(cos, { secretId: 'AKIDnobody', secretKey: OWNER.secretKey }).putObject({ ...where('refused/b'), Body: Buffer.from('x') }), 403, 'InvalidAccessKeyId');
    await refused(client(cos, { secretKey: 'not-the-secret' }).getObject(where('refused/a')), 403, 'SignatureDoesNotMatch');
    assert.deepEqual(cos.keys(BUCKET, 'refused/'), []);
    // Each refused once: a 4xx is not tried again by the SDK.
    assert.deepEqual(seen(from), ['putObject 403', 'putObject 403', 'getObject 403']);
  });

  test('Range GET answers 206 with the bytes asked for', async () => {
    const c = client(cos);
    const body = randomBytes(1000);
    await c.putObject({ ...where('range/blob'), Body: body });
    const mid = await c.getObject({ ...where('range/blob'), Range: 'bytes=100-199' });
    assert.equal(mid.statusCode, 206);
    assert.deepEqual(mid.Body, body.subarray(100, 200));
    assert.equal(mid.headers?.['content-range'], 'bytes 100-199/1000');
    const tail = await c.getObject({ ...where('range/blob'), Range: 'bytes=-10' });
    assert.deepEqual(tail.Body, body.subarray(990));
    assert.equal(tail.headers?.['content-range'], 'bytes 990-999/1000');
    await refused(c.getObject({ ...where('range/blob'), Range: 'bytes=1000-' }), 416, 'InvalidRange');
  });

  test('path-style unsigned GET: allowed with publicRead (CORS too), refused without; unsigned PUT refused either way', async () => {
    const pub = await startFakeCos({ credentials: [OWNER], publicRead: true });
    try {
      const body = Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n');
      await client(pub).putObject({ ...where('task/index.m3u8'), Body: body, ContentType: 'application/vnd.apple.mpegurl' });
      const res = await fetch(`${pub.url}/${BUCKET}/task/index.m3u8`, { headers: { origin: 'http://player.test' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
      assert.equal(res.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
      const part = await fetch(`${pub.url}/${BUCKET}/task/index.m3u8`, { headers: { range: 'bytes=0-6' } });
      assert.equal(part.status, 206);
      assert.equal(await part.text(), '#EXTM3U');
      const put = await fetch(`${pub.url}/${BUCKET}/task/evil.ts`, { method: 'PUT', body: 'x' });
      assert.equal(put.status, 403);
      assert.match(await put.text(), /<Code>AccessDenied<\/Code>/);
      assert.deepEqual(pub.keys(BUCKET), ['task/index.m3u8']);
      // A signed request to a public bucket is still checked.
      await refused(client(pub, { secretKey: 'wrong' }).getObject(where('task/index.m3u8')), 403, 'SignatureDoesNotMatch');
    } finally {
      await pub.close();
    }
    await client(cos).putObject({ ...where('private/index.m3u8'), Body: Buffer.from('#EXTM3U\n') });
    const res = await fetch(`${cos.url}/${BUCKET}/private/index.m3u8`);
    assert.equal(res.status, 403);
    const xml = await res.text();
    assert.match(xml, /^<\?xml[^>]*>\s*<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message>/);
    assert.match(xml, /<RequestId>[^<]+<\/RequestId>/);
    assert.ok(res.headers.get('x-cos-request-id'));
  });

  test('keys with ".." segments are refused (400), not stored outside the bucket', async () => {
    const res = await raw({ method: 'GET', path: `/${BUCKET}/a/%2E%2E/%2E%2E/etc`, host: cos.ip });
    assert.equal(res.status, 400);
    assert.match(res.body, /<Code>InvalidURI<\/Code>/);
  });
});

describe('multipart', () => {
  test('init, three parts (1 MiB, 1 MiB, 100 KiB), list, complete: the object is the parts in order', async () => {
    const c = client(cos);
    const key = 'mp/whole.mp4';
    const parts = [randomBytes(MiB), randomBytes(MiB), randomBytes(100 * 1024)];
    const from = cos.log.length;
    const { UploadId } = await c.multipartInit({ ...where(key), ContentType: 'video/mp4' });
    assert.ok(UploadId);
    const etags: { PartNumber: number; ETag: string }[] = [];
    for (const [i, bytes] of parts.entries()) {
      const { ETag } = await c.multipartUpload({ ...where(key), UploadId, PartNumber: i + 1, Body: bytes, ContentLength: bytes.length });
      assert.equal(ETag, `"${md5(bytes)}"`);
      etags.push({ PartNumber: i + 1, ETag });
    }
    const listed = await c.multipartListPart({ ...where(key), UploadId });
    assert.deepEqual(
      listed.Part.map((p) => [p.PartNumber, p.Size, p.ETag]),
      etags.map((e, i) => [String(e.PartNumber), String(parts[i]!.length), e.ETag]),
    );
    assert.equal(cos.object(BUCKET, key), null, 'no object before complete');

    const done = await c.multipartComplete({ ...where(key), UploadId, Parts: etags });
    const result = done as typeof done & { Key?: string; Bucket?: string }; // what the XML answered; the SDK's types leave these out
    assert.equal(result.Key, key);
    assert.equal(result.Bucket, BUCKET);
    assert.match(done.ETag, /^"[0-9a-f]{32}-3"$/);
    assert.deepEqual(cos.object(BUCKET, key), Buffer.concat(parts));
    assert.equal(cos.contentType(BUCKET, key), 'video/mp4');
    assert.deepEqual(seen(from), ['initiateMultipart 200', 'uploadPart 200', 'uploadPart 200', 'uploadPart 200', 'listParts 200', 'completeMultipart 200']);
    assert.deepEqual(
      cos.log.slice(from + 1, from + 4).map((r) => [r.partNumber, r.size]),
      parts.map((p, i) => [i + 1, p.length]),
    );
    // The upload is over.
    await refused(c.multipartListPart({ ...where(key), UploadId }), 404, 'NoSuchUpload');
  });

  test('a part but the last under 1 MiB: EntityTooSmall; wrong ETag: InvalidPart; descending: InvalidPartOrder; abort drops the upload', async () => {
    const c = client(cos);
    const key = 'mp/small.mp4';
    const { UploadId } = await c.multipartInit(where(key));
    const one = await c.multipartUpload({ ...where(key), UploadId, PartNumber: 1, Body: randomBytes(MiB - 1) });
    const two = await c.multipartUpload({ ...where(key), UploadId, PartNumber: 2, Body: randomBytes(10) });
    const parts = () => [
      { PartNumber: 1, ETag: one.ETag },
      { PartNumber: 2, ETag: two.ETag },
    ];
    await refused(c.multipartComplete({ ...where(key), UploadId, Parts: parts() }), 400, 'EntityTooSmall');
    await refused(c.multipartComplete({ ...where(key), UploadId, Parts: [{ PartNumber: 1, ETag: `"${'0'.repeat(32)}"` }] }), 400, 'InvalidPart');
    await refused(c.multipartComplete({ ...where(key), UploadId, Parts: parts().reverse() }), 400, 'InvalidPartOrder');
    assert.equal(cos.object(BUCKET, key), null);
    // A lone small part is fine (the last may be small): the upload survived the refusals.
    assert.equal((await c.multipartListPart({ ...where(key), UploadId })).Part.length, 2);

    const from = cos.log.length;
    const aborted = await c.multipartAbort({ ...where(key), UploadId });
    assert.equal(aborted.statusCode, 204);
    await refused(c.multipartListPart({ ...where(key), UploadId }), 404, 'NoSuchUpload');
    await refused(c.multipartUpload({ ...where(key), UploadId, PartNumber: 3, Body: randomBytes(10) }), 404, 'NoSuchUpload');
    await refused(c.multipartComplete({ ...where(key), UploadId, Parts: [{ PartNumber: 2, ETag: two.ETag }] }), 404, 'NoSuchUpload');
    assert.deepEqual(seen(from), ['abortMultipart 204', 'listParts 404', 'uploadPart 404', 'completeMultipart 404']);
    assert.equal(cos.object(BUCKET, key), null);
  });
});

describe("joinParts 'read': a completed upload kept as its parts", () => {
  let lazy: FakeCos;
  before(async () => {
    lazy = await startFakeCos({ credentials: [OWNER], joinParts: 'read' });
  });
  after(() => lazy?.close());

  /** The files under the fake's dir (its parts, placeholders and metadata included). */
  const filesOnDisk = () => readdirSync(lazy.dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

  test('reads whole, by any range (across part boundaries too), and by HEAD and listing as the parts joined; replacing or deleting it drops the parts', async () => {
    const c = client(lazy);
    const key = 'lazy/joined.mp4';
    const parts = [randomBytes(MiB), randomBytes(MiB + 7), randomBytes(1000)];
    const whole = Buffer.concat(parts);
    const { UploadId } = await c.multipartInit({ ...where(key), ContentType: 'video/mp4' });
    const etags = [];
    for (const [i, Body] of parts.entries()) etags.push({ PartNumber: i + 1, ETag: (await c.multipartUpload({ ...where(key), UploadId, PartNumber: i + 1, Body })).ETag });
    const done = await c.multipartComplete({ ...where(key), UploadId, Parts: etags });
    assert.match(done.ETag, /^"[0-9a-f]{32}-3"$/);

    const got = await c.getObject(where(key));
    assert.ok(Buffer.compare(got.Body, whole) === 0, 'GET answers the parts in order');
    assert.equal(got.headers?.['content-type'], 'video/mp4');
    assert.ok(Buffer.compare(lazy.object(BUCKET, key)!, whole) === 0, 'object() joins them too');
    const head = await c.headObject(where(key));
    assert.equal(Number(head.headers?.['content-length']), whole.length);
    const listed = await c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'lazy/' });
    assert.deepEqual(
      listed.Contents.map((o) => [o.Key, Number(o.Size)]),
      [[key, whole.length]],
    );
    // Ranges inside one part, across the first boundary, across both, the tail, the last byte.
    const b1 = MiB;
    const b2 = 2 * MiB + 7;
    for (const [a, z] of [
      [5, 99],
      [b1 - 3, b1 + 3],
      [b1 - 1, b2],
      [b2 - 10, whole.length - 1],
      [whole.length - 1, whole.length - 1],
    ] as const) {
      const r = await c.getObject({ ...where(key), Range: `bytes=${a}-${z}` });
      assert.equal(r.statusCode, 206);
      assert.ok(Buffer.compare(r.Body, whole.subarray(a, z + 1)) === 0, `bytes ${a}-${z}`);
    }
    const suffix = await c.getObject({ ...where(key), Range: 'bytes=-1500' });
    assert.ok(Buffer.compare(suffix.Body, whole.subarray(whole.length - 1500)) === 0, 'the last 1500 bytes');

    const withParts = filesOnDisk();
    await c.putObject({ ...where(key), Body: Buffer.from('replaced') });
    assert.equal(lazy.object(BUCKET, key)!.toString(), 'replaced');
    assert.equal(filesOnDisk(), withParts - parts.length, "the replaced object's parts are gone from disk");
    await c.deleteObject(where(key));
    assert.equal(lazy.object(BUCKET, key), null);
    assert.equal(filesOnDisk(), 0, 'nothing left on disk');
  });
});

describe('credentials and signatures', () => {
  test('temporary credentials: accepted with their x-cos-security-token, refused without it or with another', async () => {
    const temp = { id: 'AKIDtempCredential0123456789abcd', key: 'temp-secret-key-0123456789abcdef', token: `token-${randomBytes(24).toString('hex')}` };
    cos.addCredential(temp.id, temp.key, temp.token);
    const withToken = client(cos, { secretId: temp.id, secretKey: temp.key, token: temp.token });
    await withToken.putObject({ ...where('temp/a.ts'), Body: Buffer.from('segment') });
    assert.deepEqual((await withToken.getObject(where('temp/a.ts'))).Body, Buffer.from('segment'));

    await refused(client(cos, { secretId: temp.id, secretKey: temp.key }).putObject({ ...where('temp/b.ts'), Body: Buffer.from('x') }), 403, 'AccessDenied');
    await refused(client(cos, { secretId: temp.id, secretKey: temp.key, token: 'another-token' }).putObject({ ...where('temp/c.ts'), Body: Buffer.from('x') }), 403, 'AccessDenied');
    assert.deepEqual(cos.keys(BUCKET, 'temp/'), ['temp/a.ts']);
  });

  test('the signature is recomputed: a valid one replayed on another path, method or header value is refused', async () => {
    await client(cos).putObject({ ...where('sig/a.txt'), Body: Buffer.from('a') });
    await client(cos).putObject({ ...where('sig/b.txt'), Body: Buffer.from('b') });
    const sign = (o: { method?: COS.Method; key: string; headers?: Record<string, string>; query?: Record<string, string>; expires?: number; secret?: string }) =>
      COS.getAuthorization({
        SecretId: OWNER.secretId,
        SecretKey: o.secret ?? OWNER.secretKey,
        Method: o.method ?? 'get',
        Key: o.key,
        Headers: { Host: HOST, ...o.headers },
        Query: o.query,
        Expires: o.expires,
      });
    const get = (path: string, authorization: string, headers: Record<string, string> = {}) => raw({ method: 'GET', path, host: HOST, headers: { authorization, ...headers } });

    const good = sign({ key: 'sig/a.txt' });
    assert.equal((await get('/sig/a.txt', good)).body, 'a', 'the control: a correct signature passes');
    assert.equal((await get('/sig/b.txt', good)).status, 403, 'another path');
    assert.match((await get('/sig/b.txt', good)).body, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal((await raw({ method: 'DELETE', path: '/sig/a.txt', host: HOST, headers: { authorization: good } })).status, 403, 'another method');
    const ranged = sign({ key: 'sig/a.txt', headers: { Range: 'bytes=0-0' } });
    assert.equal((await get('/sig/a.txt', ranged, { range: 'bytes=0-0' })).status, 206);
    assert.equal((await get('/sig/a.txt', ranged, { range: 'bytes=0-1' })).status, 403, 'a signed header changed');
    assert.equal((await get('/sig/a.txt', ranged)).status, 403, 'a signed header left out');
    assert.equal((await get('/sig/a.txt?response-content-type=text%2Fhtml', good)).status, 403, 'an unsigned query parameter');
    const withQuery = sign({ key: 'sig/a.txt', query: { 'response-content-type': 'text/plain' } });
    const q = await get('/sig/a.txt?response-content-type=text%2Fplain', withQuery);
    assert.equal(q.status, 200);
    assert.equal(q.headers['content-type'], 'text/plain');
    assert.equal((await get('/sig/a.txt?response-content-type=text%2Fhtml', withQuery)).status, 403, 'a signed query value changed');
    // Another bucket's host: the signature covers Host.
    assert.equal((await raw({ method: 'GET', path: '/sig/a.txt', host: `other-1250000000.cos.${REGION}.myqcloud.com`, headers: { authorization: good } })).status, 403);
  });

  test('host must be signed, the sign time must hold now, and the algorithm is sha1', async () => {
    const path = '/sig/a.txt';
    const noHost = handSigned({ method: 'get', path, headers: {} });
    const r1 = await raw({ method: 'GET', path, host: HOST, headers: { authorization: noHost } });
    assert.equal(r1.status, 403);
    assert.match(r1.body, /<Code>AccessDenied<\/Code><Message>host is not among the signed headers/);
    const now = Math.floor(Date.now() / 1000);
    const expired = handSigned({ method: 'get', path, headers: { host: HOST }, time: `${now - 1000};${now - 100}` });
    assert.match((await raw({ method: 'GET', path, host: HOST, headers: { authorization: expired } })).body, /<Code>AccessDenied<\/Code><Message>Request has expired/);
    const future = handSigned({ method: 'get', path, headers: { host: HOST }, time: `${now + 100};${now + 1000}` });
    assert.match((await raw({ method: 'GET', path, host: HOST, headers: { authorization: future } })).body, /<Code>RequestTimeTooSkewed<\/Code>/);
    const skewed = handSigned({ method: 'get', path, headers: { host: HOST }, time: `${now + 30};${now + 1000}` });
    assert.equal((await raw({ method: 'GET', path, host: HOST, headers: { authorization: skewed } })).status, 200, 'within the 60 s skew');
    const good = handSigned({ method: 'get', path, headers: { host: HOST } });
    assert.equal((await raw({ method: 'GET', path, host: HOST, headers: { authorization: good } })).status, 200, 'the hand-made signing agrees with the fake');
    const md5ed = good.replace('q-sign-algorithm=sha1', 'q-sign-algorithm=md5');
    assert.equal((await raw({ method: 'GET', path, host: HOST, headers: { authorization: md5ed } })).status, 403);
  });

  test('a presigned URL (signature in the query) works for GET, with the token for temporary credentials', async () => {
    const u = new URL(await presign(client(cos), 'sig/a.txt'));
    assert.equal(u.host, HOST);
    const ok = await raw({ method: 'GET', path: u.pathname + u.search, host: HOST });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'a');
    const other = await raw({ method: 'GET', path: `/sig/b.txt${u.search}`, host: HOST });
    assert.equal(other.status, 403);

    const temp = { id: 'AKIDtempForUrls0123456789abcdefg', key: 'temp-url-secret-0123456789abcdef', token: `url-token-${randomBytes(8).toString('hex')}` };
    cos.addCredential(temp.id, temp.key, temp.token);
    const tempUrl = new URL(await presign(client(cos, { secretId: temp.id, secretKey: temp.key, token: temp.token }), 'sig/a.txt'));
    assert.equal(tempUrl.searchParams.get('x-cos-security-token'), temp.token);
    assert.equal((await raw({ method: 'GET', path: tempUrl.pathname + tempUrl.search, host: HOST })).status, 200);
    tempUrl.searchParams.delete('x-cos-security-token');
    assert.equal((await raw({ method: 'GET', path: tempUrl.pathname + tempUrl.search, host: HOST })).status, 403, 'without its token');
  });
});

describe('failures', () => {
  test("failNext(2): two 503s, then the SDK's own third try succeeds; failNext(4) outlasts its tries", async () => {
    const c = client(cos);
    let from = cos.log.length;
    cos.failNext(2);
    const put = await c.putObject({ ...where('fail/a'), Body: Buffer.from('after two 503s') });
    assert.equal(put.statusCode, 200);
    assert.deepEqual(seen(from), ['putObject 503', 'putObject 503', 'putObject 200']);
    assert.deepEqual(cos.object(BUCKET, 'fail/a'), Buffer.from('after two 503s'));

    // The SDK tries four times in all, then gives up.
    from = cos.log.length;
    cos.failNext(4);
    await refused(c.putObject({ ...where('fail/b'), Body: Buffer.from('never') }), 503, 'ServiceUnavailable');
    assert.deepEqual(seen(from), ['putObject 503', 'putObject 503', 'putObject 503', 'putObject 503']);
    assert.equal(cos.object(BUCKET, 'fail/b'), null);

    // Only the op named, with the status named; failNext(0) cancels what is left.
    from = cos.log.length;
    cos.failNext(1, { op: 'getObject', status: 500 });
    cos.failNext(5, { op: 'deleteObject' });
    await c.putObject({ ...where('fail/c'), Body: Buffer.from('c') });
    assert.deepEqual((await c.getObject(where('fail/c'))).Body, Buffer.from('c'));
    cos.failNext(0);
    await c.deleteObject(where('fail/c'));
    assert.deepEqual(seen(from), ['putObject 200', 'getObject 500', 'getObject 200', 'deleteObject 204']);
  });

  test('hang: requests wait unanswered; hang(false) lets them go on; close() ends them', async () => {
    const fake = await startFakeCos({ credentials: [OWNER] });
    try {
      const c = client(fake);
      await c.putObject({ ...where('hang/a'), Body: Buffer.from('a') });
      fake.hang(true, { op: 'getObject' });
      let answered = false;
      const pending = c.getObject(where('hang/a')).then((r) => ((answered = true), r));
      await c.headObject(where('hang/a')); // other ops go on
      await waitFor(() => fake.log.some((r) => r.op === 'getObject'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(answered, false);
      assert.deepEqual(seen(0, fake), ['putObject 200', 'getObject 0', 'headObject 200']);
      fake.hang(false);
      assert.deepEqual((await pending).Body, Buffer.from('a'));
      assert.deepEqual(seen(0, fake), ['putObject 200', 'getObject 200', 'headObject 200']);

      fake.hang(true);
      const dropped = c.headObject(where('hang/a'));
      await waitFor(() => fake.log.length === 4);
      await fake.close();
      await assert.rejects(dropped, (e: COS.CosSdkError) => e.statusCode === undefined);
      assert.equal(fake.log[3]!.status, 0);
    } finally {
      await fake.close().catch(() => {});
    }
  });
});

describe('buckets', () => {
  test('getBucket lists by Prefix (with Delimiter, MaxKeys and Marker); deleteMultipleObject removes what it names', async () => {
    const c = client(cos);
    const keys = ['list/a.ts', 'list/b.ts', 'list/sub/c.ts', 'listed-not/x'];
    for (const k of keys) await c.putObject({ ...where(k), Body: Buffer.from(k) });

    const all = await c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'list/' });
    assert.deepEqual(
      all.Contents.map((o) => [o.Key, o.Size, o.ETag]),
      keys.slice(0, 3).map((k) => [k, String(k.length), `"${md5(Buffer.from(k))}"`]),
    );
    assert.equal(all.IsTruncated, 'false');

    const flat = await c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'list/', Delimiter: '/' });
    assert.deepEqual(
      flat.Contents.map((o) => o.Key),
      ['list/a.ts', 'list/b.ts'],
    );
    assert.deepEqual(
      flat.CommonPrefixes.map((p) => p.Prefix),
      ['list/sub/'],
    );

    const page1 = await c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'list', MaxKeys: 2 });
    assert.deepEqual(
      page1.Contents.map((o) => o.Key),
      ['list/a.ts', 'list/b.ts'],
    );
    assert.equal(page1.IsTruncated, 'true');
    assert.equal(page1.NextMarker, 'list/b.ts');
    const page2 = await c.getBucket({ Bucket: BUCKET, Region: REGION, Prefix: 'list', MaxKeys: 2, Marker: page1.NextMarker });
    assert.deepEqual(
      page2.Contents.map((o) => o.Key),
      ['list/sub/c.ts', 'listed-not/x'],
    );
    assert.equal(page2.IsTruncated, 'false');

    const from = cos.log.length;
    const del = await c.deleteMultipleObject({ Bucket: BUCKET, Region: REGION, Objects: keys.slice(0, 3).map((Key) => ({ Key })) });
    assert.deepEqual(del.Deleted.map((d) => d.Key).sort(), keys.slice(0, 3));
    assert.deepEqual(del.Error, []);
    assert.deepEqual(cos.keys(BUCKET, 'list/'), []);
    assert.deepEqual(cos.keys(BUCKET, 'listed'), ['listed-not/x']);
    assert.deepEqual(seen(from), ['deleteMultiple 200']);
    assert.equal(cos.log[from]!.key, '');
  });
});

// ---- helpers: requests by hand, to 127.0.0.1 only, with any Host ----

type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; body: string };

function raw(o: { method: string; path: string; host: string; headers?: Record<string, string> }): Promise<RawAnswer> {
  const port = Number(new URL(cos.url).port);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: o.method, path: o.path, headers: { ...o.headers, host: o.host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Tencent's algorithm written out here, for authorizations the SDK would never make (no host, other times). */
function handSigned(o: { method: string; path: string; headers: Record<string, string>; time?: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const time = o.time ?? `${now - 1};${now + 600}`;
  const names = Object.keys(o.headers).sort();
  const headers = names.map((n) => `${n}=${encodeURIComponent(o.headers[n]!)}`).join('&');
  const httpString = `${o.method}\n${o.path}\n\n${headers}\n`;
  const hmac = (k: string, s: string) => createHmac('sha1', k).update(s).digest('hex');
  const toSign = `sha1\n${time}\n${createHash('sha1').update(httpString).digest('hex')}\n`;
  const signature = hmac(hmac(OWNER.secretKey, time), toSign);
  return `q-sign-algorithm=sha1&q-ak=${OWNER.secretId}&q-sign-time=${time}&q-key-time=${time}&q-header-list=${names.join(';')}&q-url-param-list=&q-signature=${signature}`;
}

/** The SDK's presigned GET URL for `key` (the bucket's own host: only its path and query are used, on loopback). */
function presign(c: COS, key: string): Promise<string> {
  return new Promise((resolve, reject) => c.getObjectUrl({ ...where(key), Sign: true, Expires: 60 }, (err, data) => (err ? reject(err) : resolve(data.Url))));
}

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
