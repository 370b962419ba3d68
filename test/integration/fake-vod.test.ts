// The fake VOD (test/helpers/fake-vod.ts) against the real tencentcloud-sdk-nodejs-vod: the SDK keeps
// VOD's own host (so the Host header and the TC3 service name are VOD's) while an agent sends its
// connections to the fake on 127.0.0.1. The fake must take what the SDK signs rightly and refuse
// the rest, as VOD would; media goes up with the real cos-nodejs-sdk-v5 to the fake COS, with the
// temporary credential VOD handed out.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, test } from 'node:test';
import COS from 'cos-nodejs-sdk-v5';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import { type FakeCos, startFakeCos } from '../helpers/fake-cos.js';
import { agentTo, type CosForVod, type FakeVod, startFakeVod, VOD_HOST } from '../helpers/fake-vod.js';

const VodClient = tencentcloud.vod.v20180717.Client;
type VodClient = InstanceType<typeof VodClient>;
type Applied = Awaited<ReturnType<VodClient['ApplyUpload']>>;

const OWNER = { secretId: 'AKIDfakeVodOwner0123456789abcdef', secretKey: 'fake-vod-owner-secret-key-0123' };
const BUCKET = 'vodupload-1250000000';

/** The fake COS as VOD sees it, noting the credentials VOD gives it (to see that a refused call gave none). */
function watched(cos: FakeCos): CosForVod & { credentials: { secretId: string; secretKey: string; token?: string }[] } {
  const credentials: { secretId: string; secretKey: string; token?: string }[] = [];
  return {
    credentials,
    addCredential(secretId, secretKey, token, limits) {
      credentials.push({ secretId, secretKey, token });
      cos.addCredential(secretId, secretKey, token, limits);
    },
    object: (bucket, key) => cos.object(bucket, key),
    keys: (bucket, prefix) => cos.keys(bucket, prefix),
  };
}

/** Uploads `body` where ApplyUpload said (`name` beside the media file, if given) with the temporary credential, as a VOD client does. */
async function upload(fakeCos: FakeCos, applied: Applied, body: Buffer | string, opts: { name?: string; token?: boolean } = {}): Promise<string> {
  const temp = applied.TempCertificate!;
  const cos = new COS({
    SecretId: temp.SecretId!,
    SecretKey: temp.SecretKey!,
    ...(opts.token === false ? {} : { SecurityToken: temp.Token! }),
    Protocol: 'http:',
    Ip: fakeCos.ip,
    AutoSwitchHost: false,
  });
  const media = applied.MediaStoragePath!.slice(1);
  const key = opts.name ? media.slice(0, media.lastIndexOf('/') + 1) + opts.name : media;
  await cos.putObject({ Bucket: applied.StorageBucket!, Region: applied.StorageRegion!, Key: key, Body: Buffer.from(body) });
  return key;
}

function client(fake: FakeVod, opts: { credential?: { secretId: string; secretKey: string }; endpoint?: string; agent?: http.Agent } = {}): VodClient {
  return new VodClient({
    credential: opts.credential ?? OWNER,
    region: 'ap-guangzhou',
    profile: { httpProfile: { protocol: 'http://', endpoint: opts.endpoint ?? VOD_HOST, agent: opts.agent ?? agentTo(fake.url), reqTimeout: 10 } },
  });
}

/** Asserts the SDK threw its API error with `code` (VOD answers errors as HTTP 200 with Response.Error). */
async function refused(call: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(call, (e: { code?: string; requestId?: string }) => {
    assert.equal(e.code, code);
    assert.ok(e.requestId, 'the error carries the RequestId');
    return true;
  });
}

/** An agent to the fake that swaps `from` for `to` (same length) in what the client writes: a body changed in transit. */
function tamperingAgent(url: string, from: string, to: string): http.Agent {
  assert.equal(from.length, to.length);
  const agent = agentTo(url);
  const connect = agent.createConnection.bind(agent);
  agent.createConnection = (options, cb) => {
    const socket = connect(options, cb)!;
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const swap = (chunk: unknown) =>
      typeof chunk === 'string'
        ? chunk.replace(from, to)
        : Buffer.from(
            Buffer.from(chunk as Uint8Array)
              .toString('latin1')
              .replace(from, to),
            'latin1',
          );
    socket.write = ((chunk: unknown, ...rest: unknown[]) => write(swap(chunk), ...rest)) as typeof socket.write;
    return socket;
  };
  return agent;
}

describe('fake VOD, through tencentcloud-sdk-nodejs-vod', () => {
  let fakeCos: FakeCos;
  let cos: ReturnType<typeof watched>;
  let fake: FakeVod;
  let vod: VodClient;

  before(async () => {
    fakeCos = await startFakeCos({ credentials: [] });
    cos = watched(fakeCos);
    fake = await startFakeVod({ credentials: [OWNER], cos });
    vod = client(fake);
  });
  after(async () => {
    await fake?.close();
    await fakeCos?.close();
  });

  const lastCall = () => fake.calls.at(-1)!;

  test('ApplyUpload answers where the media goes, and every parameter arrives', async () => {
    const params = {
      MediaType: 'mp4',
      MediaName: 'lesson-42',
      ExpireTime: '2031-01-01T00:00:00Z',
      Procedure: 'record-procedure',
      SessionContext: 'session-ctx',
      SourceContext: 'source-ctx',
      SubAppId: 1500000001,
      ClassId: 7,
      StorageRegion: 'ap-chongqing',
    };
    const applied = await vod.ApplyUpload(params);

    assert.equal(applied.StorageBucket, BUCKET);
    assert.equal(applied.StorageRegion, 'ap-chongqing', 'the asked storage region is the answered one');
    assert.match(applied.MediaStoragePath ?? '', /^\/[^/]+\/[^/]+\/lesson-42\.mp4$/);
    assert.match(applied.VodSessionKey ?? '', /^\w{16,}$/);
    assert.ok(applied.RequestId);
    const temp = applied.TempCertificate!;
    assert.ok(temp.SecretId && temp.SecretKey && temp.Token);
    assert.ok(temp.ExpiredTime! > Date.now() / 1000, 'the temporary credential has not expired');
    assert.deepEqual(cos.credentials.at(-1), { secretId: temp.SecretId, secretKey: temp.SecretKey, token: temp.Token }, 'COS was given the credential');

    assert.equal(lastCall().action, 'ApplyUpload');
    assert.equal(lastCall().error, undefined);
    assert.deepEqual(lastCall().params, params);
  });

  test('ApplyUpload defaults the region and the name, and refuses a wrong MediaType', async () => {
    const applied = await vod.ApplyUpload({ MediaType: 'm3u8' });
    assert.equal(applied.StorageRegion, 'ap-guangzhou');
    assert.match(applied.MediaStoragePath ?? '', /^\/[^/]+\/[^/]+\/f0\.m3u8$/);
    const other = await vod.ApplyUpload({ MediaType: 'm3u8' });
    assert.notEqual(other.MediaStoragePath, applied.MediaStoragePath, 'each upload has its own path');
    assert.notEqual(other.TempCertificate?.SecretId, applied.TempCertificate?.SecretId, 'and its own credential');

    await refused(vod.ApplyUpload({ MediaType: 'exe' }), 'InvalidParameterValue.MediaType');
    await refused(vod.ApplyUpload({} as { MediaType: string }), 'InvalidParameterValue.MediaType');
  });

  test('a wrong SecretKey or an unknown SecretId is refused, and nothing is applied', async () => {
    const callsBefore = fake.calls.length;
    const credentialsBefore = cos.credentials.length;

    await refused(client(fake, { credential: { secretId: OWNER.secretId, secretKey: 'not-the-key' } }).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SignatureFailure');
    await refused(client(fake, { credential: { secretId: 'AKIDnobodyKnowsThis', secretKey: OWNER.secretKey } }).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SecretIdNotFound');

    assert.deepEqual(
      fake.calls.slice(callsBefore).map((c) => [c.action, c.error, c.params.MediaType]),
      [
        ['ApplyUpload', 'AuthFailure.SignatureFailure', 'mp4'],
        ['ApplyUpload', 'AuthFailure.SecretIdNotFound', 'mp4'],
      ],
      'refused calls are recorded, once each (the SDK does not retry)',
    );
    assert.equal(cos.credentials.length, credentialsBefore, 'no temporary credential was made');
  });

  test('a body changed in transit, another host, a temporary credential or a stale clock are refused', async () => {
    const credentialsBefore = cos.credentials.length;
    const tampered = client(fake, { agent: tamperingAgent(fake.url, '"original-name"', '"tampered-name"') });
    await refused(tampered.ApplyUpload({ MediaType: 'mp4', MediaName: 'original-name' }), 'AuthFailure.SignatureFailure');
    assert.equal(lastCall().params.MediaName, 'tampered-name', 'the fake did get the changed body');

    // The agent still connects to the fake; the SDK signs for this host (service name "vod" kept).
    await refused(client(fake, { endpoint: 'vod.example.com' }).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SignatureFailure');
    await refused(client(fake, { endpoint: 'cvm.tencentcloudapi.com' }).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SignatureFailure');

    // A credential VOD made for COS is no VOD credential.
    const temp = (await vod.ApplyUpload({ MediaType: 'mp4' })).TempCertificate!;
    await refused(client(fake, { credential: { secretId: temp.SecretId!, secretKey: temp.SecretKey! } }).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SecretIdNotFound');
    assert.equal(cos.credentials.length, credentialsBefore + 1, 'only the one accepted ApplyUpload made a credential');

    const ahead = await startFakeVod({ credentials: [OWNER], cos, now: () => Date.now() + 301_000 });
    try {
      await refused(client(ahead).ApplyUpload({ MediaType: 'mp4' }), 'AuthFailure.SignatureExpire');
    } finally {
      await ahead.close();
    }
    const nearly = await startFakeVod({ credentials: [OWNER], cos, now: () => Date.now() + 290_000 });
    try {
      await client(nearly).ApplyUpload({ MediaType: 'mp4' });
    } finally {
      await nearly.close();
    }
  });

  test('ApplyUpload, upload, CommitUpload: a media file; not before the upload, and only once', async () => {
    const applied = await vod.ApplyUpload({ MediaType: 'mp4', MediaName: 'whole-flow' });
    const commit = () => vod.CommitUpload({ VodSessionKey: applied.VodSessionKey! });

    await refused(commit(), 'FailedOperation.MediaNotFound');
    await assert.rejects(upload(fakeCos, applied, 'no token', { token: false }), (e: { code?: string }) => e.code === 'AccessDenied', 'COS wants the temporary credential with its token');
    const bytes = Buffer.from('not really an mp4, but bytes all the same');
    const key = await upload(fakeCos, applied, bytes);
    assert.deepEqual(fakeCos.object(BUCKET, key), bytes);

    const committed = await commit();
    assert.match(committed.FileId ?? '', /^\d+$/);
    assert.equal(committed.MediaUrl, `http://${BUCKET}.vod2.myqcloud.com${applied.MediaStoragePath}`);
    assert.equal(committed.CoverUrl, '');
    assert.deepEqual(lastCall(), { action: 'CommitUpload', params: { VodSessionKey: applied.VodSessionKey }, at: lastCall().at });

    await refused(commit(), 'InvalidParameterValue.VodSessionKey');
    await refused(vod.CommitUpload({ VodSessionKey: 'no-such-session' }), 'InvalidParameterValue.VodSessionKey');
  });

  test("ApplyUpload's credential opens its own folder only, and only until its ExpiredTime", async () => {
    const applied = await vod.ApplyUpload({ MediaType: 'mp4', MediaName: 'scoped' });
    const other = await vod.ApplyUpload({ MediaType: 'mp4', MediaName: 'other' });
    const expires = applied.TempCertificate!.ExpiredTime! * 1000;
    assert.ok(expires > Date.now() + 2 * 3600_000 && expires <= Date.now() + 3 * 3600_000 + 1000, 'three hours by default');
    await upload(fakeCos, applied, 'beside it', { name: 'beside.ts' });
    // The other upload's folder, with this upload's credential: what VOD's credentials allow is the path they were given.
    const elsewhere = { ...applied, MediaStoragePath: other.MediaStoragePath! };
    await assert.rejects(upload(fakeCos, elsewhere, 'not mine'), (e: { code?: string; message?: string }) => e.code === 'AccessDenied' && /opens keys under/.test(JSON.stringify(e)));

    const shortLived = await startFakeVod({ credentials: [OWNER], cos, credentialSeconds: 1 });
    try {
      const brief = await client(shortLived).ApplyUpload({ MediaType: 'mp4', MediaName: 'brief' });
      assert.ok(Math.abs(brief.TempCertificate!.ExpiredTime! * 1000 - (Date.now() + 1000)) < 1500);
      await upload(fakeCos, brief, 'in time');
      await new Promise((r) => setTimeout(r, 1500));
      await assert.rejects(upload(fakeCos, brief, 'too late'), (e: { code?: string }) => e.code === 'AccessDenied' && /expired/.test(JSON.stringify(e)));
    } finally {
      await shortLived.close();
    }
  });

  test('CommitUpload of HLS needs the playlist and what it names, in the same SubAppId', async () => {
    const applied = await vod.ApplyUpload({ MediaType: 'm3u8', MediaName: 'live', SubAppId: 1500000002 });
    const commit = (SubAppId?: number) => vod.CommitUpload({ VodSessionKey: applied.VodSessionKey!, ...(SubAppId ? { SubAppId } : {}) });

    const key = await upload(fakeCos, applied, '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:4,\nseg0.m4s\n#EXTINF:4,\nseg1.m4s\n#EXT-X-ENDLIST\n');
    await upload(fakeCos, applied, 'init', { name: 'init.mp4' });
    await upload(fakeCos, applied, 'seg0', { name: 'seg0.m4s' });
    await assert.rejects(commit(1500000002), (e: { code?: string; message: string }) => e.code === 'FailedOperation.MediaNotFound' && e.message.includes('seg1.m4s'));
    await upload(fakeCos, applied, 'seg1', { name: 'seg1.m4s' });
    assert.equal(fakeCos.keys(BUCKET, key.slice(0, key.lastIndexOf('/') + 1)).length, 4);

    await refused(commit(), 'InvalidParameterValue.SubAppId');
    const committed = await commit(1500000002);
    assert.equal(committed.MediaUrl, `http://${BUCKET}.vod2.myqcloud.com/${key}`);
  });

  test('failNext makes the next matching calls fail with the code, then all is well', async () => {
    const applied = await vod.ApplyUpload({ MediaType: 'mp4' });
    await upload(fakeCos, applied, 'mp4');

    fake.failNext(1, { action: 'CommitUpload' });
    await vod.ApplyUpload({ MediaType: 'mp4' }); // another action is not hit
    const callsBefore = fake.calls.length;
    await refused(vod.CommitUpload({ VodSessionKey: applied.VodSessionKey! }), 'InternalError');
    assert.equal(fake.calls.length, callsBefore + 1, 'the SDK did not retry');
    const committed = await vod.CommitUpload({ VodSessionKey: applied.VodSessionKey! });
    assert.match(committed.FileId ?? '', /^\d+$/, 'the failed commit did not use the session up');

    fake.failNext(2, { code: 'RequestLimitExceeded' });
    await refused(vod.ApplyUpload({ MediaType: 'mp4' }), 'RequestLimitExceeded');
    await refused(vod.ApplyUpload({ MediaType: 'mp4' }), 'RequestLimitExceeded');
    await vod.ApplyUpload({ MediaType: 'mp4' });
  });
});
