import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Envelope, firstIssue, normalizeStart, StartData, TaskRef } from '../../protocol/api.js';

const start = (data: unknown) => {
  const r = StartData.safeParse(data);
  return r.success ? { ok: true as const, request: normalizeStart(r.data) } : { ok: false as const, message: firstIssue(r.error) };
};

describe('Start data', () => {
  it('resolves defaults as API.md says', () => {
    const r = start({ RecordURL: 'https://example.com/class' });
    assert.ok(r.ok);
    assert.deepEqual(r.request, {
      RecordURL: 'https://example.com/class',
      ManualStart: false,
      Width: 1280,
      Height: 720,
      CallbackURL: undefined,
      MaxDurationLimit: 21600,
      StorageType: 'cfs',
      ReadyTimeout: 30,
      RecordId: undefined,
      Output: { Cos: undefined, Vod: undefined, Video: { Muxer: 'mp4', EncryptKey: undefined, AuthUrl: undefined } },
    });
  });

  it('0 means the default, odd sizes round down to even', () => {
    const r = start({ RecordURL: 'http://a.test', Width: 0, Height: 481, MaxDurationLimit: 0, ReadyTimeout: 0 });
    assert.ok(r.ok);
    assert.equal(r.request.Width, 1280);
    assert.equal(r.request.Height, 480);
    assert.equal(r.request.MaxDurationLimit, 21600);
    assert.equal(r.request.ReadyTimeout, 30);
  });

  it('accepts what JavaScript clients of the original product send: numbers as strings, null for absent', () => {
    const r = start({ RecordURL: 'http://a.test', Width: '1920', Height: 1080, ManualStart: 'true', CallbackURL: null, Output: { Vod: { SubAppId: 1500007120 } } });
    assert.ok(r.ok);
    assert.equal(r.request.Width, 1920);
    assert.equal(r.request.ManualStart, true);
    assert.equal(r.request.Output.Vod?.SubAppId, '1500007120');
  });

  it('takes the seed example body as it is', () => {
    const r = start({
      RecordURL: 'https://web-record-12596.cos.ap-chengdu.myqcloud.com/test/ponyo.mp4',
      Width: 1280,
      Height: 720,
      CallbackURL: 'http://xxx/webrecord/callback',
      MaxDurationLimit: 21600,
      Output: {
        // (The seed's bucket is the placeholder "webrecord-xxx"; a real one is <name>-<appid>.)
        Cos: { Domain: 'abc.xxx.com', Bucket: 'webrecord-1250000000', Region: 'ap-shanghai', TargetDir: '11234/', TargetName: 'record-file-name.mp4' },
        Vod: {
          MediaInfo: { MediaName: 'test', ExpireTime: '2023-10-01T10:00:00Z', StorageRegion: 'ap-shanghai', ClassId: 1 },
          ProcedureInfo: { Procedure: '', SessionContext: '' },
          SubAppId: 1500007120,
        },
        Video: { Muxer: 'hls', EncryptKey: '21834cca41778803e1afba3f41aabbcc', AuthUrl: 'https://hls.example.com/m3u8-encrypt/enc.key' },
      },
    });
    assert.ok(r.ok, !r.ok ? r.message : '');
    assert.equal(r.request.Output.Video.Muxer, 'hls');
    // As the original made it: the key is the first 16 bytes of the string, as text.
    assert.equal(r.request.Output.Video.EncryptKey, Buffer.from('21834cca41778803').toString('hex'));
  });

  it('reads EncryptKey as text by default (its first 16 bytes), or as hex with EncryptKeyFormat "hex"', () => {
    const video = (v: Record<string, unknown>) => start({ RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', AuthUrl: 'http://k.test/k', ...v } } });
    const text = video({ EncryptKey: '0123456789abcdefTAIL-IGNORED-PART' });
    assert.ok(text.ok);
    assert.equal(text.request.Output.Video.EncryptKey, Buffer.from('0123456789abcdef').toString('hex'));
    const utf8 = video({ EncryptKey: 'ключ-пример-1' }); // 16+ bytes in UTF-8, fewer characters
    assert.ok(utf8.ok);
    assert.equal(utf8.request.Output.Video.EncryptKey, Buffer.from('ключ-пример-1').subarray(0, 16).toString('hex'));
    const hex = video({ EncryptKey: '8F1E2D3C4B5A69788796A5B4C3D2E1F0', EncryptKeyFormat: 'hex' });
    assert.ok(hex.ok);
    assert.equal(hex.request.Output.Video.EncryptKey, '8f1e2d3c4b5a69788796a5b4c3d2e1f0');
    // Sealed at rest, never stored as given.
    assert.equal(JSON.stringify(text.request).includes('TAIL-IGNORED'), false);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no RecordURL', {}, /^RecordURL missing$/],
    ['empty RecordURL', { RecordURL: '' }, /^RecordURL missing$/],
    ['RecordURL not a string', { RecordURL: 5 }, /^Data\.RecordURL must be a string$/],
    ['RecordURL not http', { RecordURL: 'file:///etc/passwd' }, /^Data\.RecordURL must be an http or https URL$/],
    ['Width too big', { RecordURL: 'http://a.test', Width: 2561 }, /^Data\.Width must be an integer in \[0, 2560\]$/],
    ['Width negative', { RecordURL: 'http://a.test', Width: -2 }, /^Data\.Width must be an integer in \[0, 2560\]$/],
    ['Height fractional', { RecordURL: 'http://a.test', Height: 7.5 }, /^Data\.Height must be an integer in \[0, 2560\]$/],
    ['Height a word', { RecordURL: 'http://a.test', Height: 'tall' }, /^Data\.Height must be an integer in \[0, 2560\]$/],
    ['MaxDurationLimit too long', { RecordURL: 'http://a.test', MaxDurationLimit: 36001 }, /^Data\.MaxDurationLimit must be an integer in \[0, 36000\]$/],
    ['ManualStart not a boolean', { RecordURL: 'http://a.test', ManualStart: 'yes' }, /^Data\.ManualStart must be a boolean$/],
    ['StorageType unknown', { RecordURL: 'http://a.test', StorageType: 's3' }, /^Data\.StorageType must be "cfs" or "cos"$/],
    ['CallbackURL not http', { RecordURL: 'http://a.test', CallbackURL: 'ftp://x' }, /^Data\.CallbackURL must be an http or https URL$/],
    ['Muxer unknown', { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'avi' } } }, /^Data\.Output\.Video\.Muxer must be "mp4" or "hls"$/],
    [
      'EncryptKey of 15 bytes',
      { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', EncryptKey: '0123456789abcde', AuthUrl: 'http://k.test' } } },
      /^Data\.Output\.Video\.EncryptKey must be at least 16 bytes/,
    ],
    [
      'EncryptKey not hex with EncryptKeyFormat hex',
      { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', EncryptKey: 'zz'.repeat(16), EncryptKeyFormat: 'hex', AuthUrl: 'http://k.test' } } },
      /EncryptKey must be 32 hexadecimal characters \(a 128-bit key\) when EncryptKeyFormat is "hex"/,
    ],
    ['EncryptKeyFormat unknown', { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', EncryptKeyFormat: 'base64' } } }, /^Data\.Output\.Video\.EncryptKeyFormat must be "text" or "hex"$/],
    ['EncryptKey without AuthUrl', { RecordURL: 'http://a.test', Output: { Video: { Muxer: 'hls', EncryptKey: '0123456789abcdef0123456789abcdef' } } }, /^AuthUrl missing/],
    ['Output not an object', { RecordURL: 'http://a.test', Output: 'cos' }, /^Data\.Output must be an object$/],
    ['TargetName with a slash', { RecordURL: 'http://a.test', Output: { Cos: { TargetName: '../x.mp4' } } }, /TargetName must be a file name/],
    ['SessionContext too long', { RecordURL: 'http://a.test', Output: { Vod: { ProcedureInfo: { SessionContext: 'x'.repeat(1001) } } } }, /SessionContext must be a string of 0 to 1000/],
    ['a bucket name without its appid', { RecordURL: 'http://a.test', Output: { Cos: { Bucket: 'webrecord-xxx' } } }, /^Data\.Output\.Cos\.Bucket must be a COS bucket name, <name>-<appid>/],
    ['a bucket name with capitals', { RecordURL: 'http://a.test', Output: { Cos: { Bucket: 'Media-1250000000' } } }, /^Data\.Output\.Cos\.Bucket must be a COS bucket name/],
    ['ExpireTime a date without a time', { RecordURL: 'http://a.test', Output: { Vod: { MediaInfo: { ExpireTime: '2027-01-01' } } } }, /ExpireTime must be an ISO 8601 time/],
    ['ExpireTime in another format', { RecordURL: 'http://a.test', Output: { Vod: { MediaInfo: { ExpireTime: 'Jan 1 2027 10:00' } } } }, /ExpireTime must be an ISO 8601 time/],
    ['SourceContext too long', { RecordURL: 'http://a.test', Output: { Vod: { SourceContext: 's'.repeat(251) } } }, /SourceContext must be a string of 0 to 250/],
    ['ExpireTime not a time', { RecordURL: 'http://a.test', Output: { Vod: { MediaInfo: { ExpireTime: 'soon' } } } }, /ExpireTime must be an ISO 8601 time/],
    ['RecordId too long', { RecordURL: 'http://a.test', RecordId: 'r'.repeat(65) }, /^Data\.RecordId must be a string of 1 to 64/],
    ['ReadyTimeout too long', { RecordURL: 'http://a.test', ReadyTimeout: 61 }, /^Data\.ReadyTimeout must be an integer in \[0, 60\]$/],
    ['Data an array', [], /^Data must be an object$/],
  ];
  for (const [what, data, message] of bad) {
    it(`refuses ${what}, naming the field`, () => {
      const r = start(data);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.message : '', message);
    });
  }
});

describe('envelope and task references', () => {
  it('names a missing or unknown Action', () => {
    const missing = Envelope.safeParse({ Data: {} });
    assert.equal(!missing.success && firstIssue(missing.error), 'Action missing');
    const unknown = Envelope.safeParse({ Action: 'Delete' });
    assert.equal(!unknown.success && firstIssue(unknown.error), 'Action must be one of Start, Pause, Resume, Refresh, Stop, Describe, ListTasks, DescribeRecorders');
  });

  it('TaskID missing / wrong type', () => {
    const missing = TaskRef.safeParse({});
    assert.equal(!missing.success && firstIssue(missing.error), 'TaskID missing');
    const number = TaskRef.safeParse({ TaskID: 12 });
    assert.equal(!number.success && firstIssue(number.error), 'Data.TaskID must be a string');
  });
});
