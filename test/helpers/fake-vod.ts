// A fake Tencent Cloud VOD (API 3.0, `vod.tencentcloudapi.com`, version 2018-07-17) for tests:
// just ApplyUpload and CommitUpload. It recomputes the TC3-HMAC-SHA256 signature of every request
// from the bytes it received, the way VOD does, so a client that signs wrongly (or sends to the
// wrong host or service) fails here instead of in production. Media goes to a fake COS: ApplyUpload
// registers a temporary credential with it, CommitUpload checks that the media is there.
import http from 'node:http';
import net from 'node:net';
import { createHash, createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';

/** The part of the fake COS server (test/helpers/fake-cos.ts) that this needs. */
export type CosForVod = {
  addCredential(secretId: string, secretKey: string, token?: string, limits?: { expiresAt?: number; bucket?: string; keyPrefix?: string }): void;
  object(bucket: string, key: string): Buffer | null;
  keys(bucket: string, prefix?: string): string[];
};
export type VodCall = { action: 'ApplyUpload' | 'CommitUpload' | string; params: Record<string, unknown>; at: number; error?: string };
export type FakeVod = {
  url: string; // http://127.0.0.1:<port>
  calls: VodCall[]; // every request, in order, refused ones too (with error code)
  failNext(n: number, opts?: { action?: string; code?: string /* default 'InternalError' */ }): void;
  close(): Promise<void>;
};
export type FakeVodOptions = {
  credentials: { secretId: string; secretKey: string }[];
  cos: CosForVod;
  bucket?: string; // default 'vodupload-1250000000'
  region?: string; // default 'ap-guangzhou'
  /** Milliseconds since the epoch, as the fake sees them (to test the timestamp window). */
  now?: () => number;
  /** How long ApplyUpload's temporary credentials last (default 3 h); the COS refuses them after. */
  credentialSeconds?: number;
};

export const VOD_HOST = 'vod.tencentcloudapi.com';
const SERVICE = 'vod';
const VERSION = '2018-07-17';
const ALGORITHM = 'TC3-HMAC-SHA256';
const MAX_SKEW_S = 300; // VOD refuses a signature more than five minutes off its clock
const TEMP_CREDENTIAL_S = 3 * 3600; // the default lifetime of ApplyUpload's credentials

const MEDIA_TYPES = new Set(['mp4', 'm3u8', 'flv', 'mov', 'ts', 'webm', 'mkv', 'avi', 'wmv', '3gp', 'm4v', 'mpg', 'mpeg', 'mp3', 'm4a', 'aac', 'wav', 'flac', 'ogg']);
const COVER_TYPES = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp']);

/** An API 3.0 error: answered as HTTP 200 with `Response.Error`, which the SDK throws with `code`. */
class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Session = { bucket: string; region: string; path: string; mediaType: string; subAppId: number | undefined; committed: boolean };
type Failure = { left: number; action: string | undefined; code: string };
type Params = Record<string, unknown>;

export async function startFakeVod(opts: FakeVodOptions): Promise<FakeVod> {
  const now = opts.now ?? Date.now;
  const secrets = new Map(opts.credentials.map((c) => [c.secretId, c.secretKey]));
  const sessions = new Map<string, Session>();
  const failures: Failure[] = [];
  const calls: VodCall[] = [];
  let fileIds = 0;

  const actions = new Map<string, (p: Params) => Params>([
    ['ApplyUpload', (p) => applyUpload(p, sessions, opts, now)],
    ['CommitUpload', (p) => commitUpload(p, sessions, opts.cos, () => fileId(++fileIds))],
  ]);

  /** Throws the first injected failure that matches `action`, using it up. */
  const injected = (action: string): void => {
    const f = failures.find((x) => x.left > 0 && (x.action === undefined || x.action === action));
    if (!f) return;
    f.left--;
    throw new ApiError(f.code, `failure injected by failNext for ${action}`);
  };

  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const action = headerOf(req, 'x-tc-action') ?? '';
    const call: VodCall = { action, params: {}, at: now() };
    calls.push(call); // on arrival, so the order is the order requests came in
    let answer: Params;
    try {
      const body = await readBody(req);
      const params = parseParams(body);
      call.params = params ?? {};
      checkTransport(req);
      verifyTc3(req, body, secrets, now() / 1000);
      const handler = actions.get(action);
      if (!handler) throw new ApiError(action ? 'InvalidAction' : 'MissingParameter', action ? `action ${action} does not exist` : 'X-TC-Action is missing');
      if (headerOf(req, 'x-tc-version') !== VERSION) throw new ApiError('NoSuchVersion', `version must be ${VERSION}`);
      if (!params) throw new ApiError('InvalidParameter', 'the body is not a JSON object');
      injected(action);
      answer = handler(params);
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError('InternalError', String(e));
      call.error = err.code;
      answer = { Error: { Code: err.code, Message: err.message } };
    }
    send(res, req, { Response: { ...answer, RequestId: randomUUID() } });
  };

  const server = http.createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(n, o = {}) {
      if (n > 0) failures.push({ left: n, action: o.action, code: o.code ?? 'InternalError' });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * An agent that opens every connection to `url` (a loopback address) whatever host the request
 * names, so a client can keep VOD's own host — and so the Host header and the TC3 service name.
 */
export function agentTo(url: string): http.Agent {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol !== 'http:' || !isLoopback(host)) throw new Error(`agentTo: ${url} is not an http:// loopback address`);
  const port = Number(u.port) || 80;
  const agent = new http.Agent();
  agent.createConnection = () => net.connect({ host, port });
  return agent;
}

function isLoopback(host: string): boolean {
  return (net.isIPv4(host) && host.startsWith('127.')) || host === '::1';
}

// ---- requests and answers ----

function headerOf(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The body as a JSON object, or null. Parsed before the signature check so refused calls keep their params. */
function parseParams(body: Buffer): Params | null {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Params) : null;
  } catch {
    return null;
  }
}

/** Only what the SDK does by default: POST with a JSON body (no GET, form or multipart). */
function checkTransport(req: http.IncomingMessage): void {
  if (req.method !== 'POST') throw new ApiError('UnsupportedProtocol', `method ${req.method} is not supported here, only POST`);
  const type = headerOf(req, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new ApiError('UnsupportedProtocol', `Content-Type ${type || '(none)'} is not supported here, only application/json`);
}

function send(res: http.ServerResponse, req: http.IncomingMessage, body: unknown): void {
  const traceId = headerOf(req, 'x-tc-traceid');
  res.writeHead(200, { 'Content-Type': 'application/json', ...(traceId ? { 'X-TC-TraceId': traceId } : {}) });
  res.end(JSON.stringify(body));
}

// ---- TC3-HMAC-SHA256 ----

type Tc3Authorization = { secretId: string; date: string; service: string; signedHeaders: string[]; signature: string };

/** `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>` */
function parseAuthorization(header: string | undefined): Tc3Authorization {
  const m = /^TC3-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) throw new ApiError('AuthFailure.InvalidAuthorization', `Authorization is not a ${ALGORITHM} authorization: ${header ?? '(none)'}`);
  const [, secretId, date, service, signed, signature] = m as unknown as [string, string, string, string, string, string];
  return { secretId, date, service, signedHeaders: signed.split(';'), signature };
}

function verifyTc3(req: http.IncomingMessage, body: Buffer, secrets: Map<string, string>, nowS: number): void {
  const auth = parseAuthorization(headerOf(req, 'authorization'));
  if (auth.service !== SERVICE) throw new ApiError('AuthFailure.SignatureFailure', `credential scope names service ${auth.service}, not ${SERVICE}`);
  const host = headerOf(req, 'host');
  if (host !== VOD_HOST) throw new ApiError('AuthFailure.SignatureFailure', `Host is ${host ?? '(none)'}, not ${VOD_HOST}`);
  for (const need of ['content-type', 'host']) {
    if (!auth.signedHeaders.includes(need)) throw new ApiError('AuthFailure.SignatureFailure', `SignedHeaders must include ${need}`);
  }
  const secretKey = secrets.get(auth.secretId);
  if (secretKey === undefined) throw new ApiError('AuthFailure.SecretIdNotFound', `SecretId ${auth.secretId} is not known`);

  const stamp = headerOf(req, 'x-tc-timestamp') ?? '';
  if (!/^\d+$/.test(stamp)) throw new ApiError('MissingParameter', 'X-TC-Timestamp is missing or not a number');
  if (Math.abs(nowS - Number(stamp)) > MAX_SKEW_S) throw new ApiError('AuthFailure.SignatureExpire', `X-TC-Timestamp ${stamp} is more than ${MAX_SKEW_S} s from now`);
  if (auth.date !== utcDate(Number(stamp))) throw new ApiError('AuthFailure.SignatureFailure', `credential date ${auth.date} is not the UTC date of X-TC-Timestamp ${stamp}`);

  const canonical = canonicalRequest(req, auth.signedHeaders, body);
  const expected = tc3Signature(secretKey, stamp, auth.date, auth.service, canonical);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))) {
    throw new ApiError('AuthFailure.SignatureFailure', 'the request signature does not match the one computed here');
  }
}

/** Method, path, query, the signed headers (lowercased names, trimmed values), their list, and the body hash. */
function canonicalRequest(req: http.IncomingMessage, signedHeaders: string[], body: Buffer): string {
  const url = new URL(req.url ?? '/', 'http://x');
  const headers = signedHeaders.map((name) => {
    const value = headerOf(req, name);
    if (value === undefined) throw new ApiError('AuthFailure.SignatureFailure', `signed header ${name} is not in the request`);
    return `${name}:${value.trim()}\n`;
  });
  return [req.method, url.pathname, url.search.slice(1), headers.join(''), signedHeaders.join(';'), sha256hex(body)].join('\n');
}

function tc3Signature(secretKey: string, stamp: string, date: string, service: string, canonical: string): string {
  const scope = `${date}/${service}/tc3_request`;
  const toSign = `${ALGORITHM}\n${stamp}\n${scope}\n${sha256hex(canonical)}`;
  const kDate = hmac(`TC3${secretKey}`, date);
  const kService = hmac(kDate, service);
  const kSigning = hmac(kService, 'tc3_request');
  return hmac(kSigning, toSign).toString('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function utcDate(unixS: number): string {
  return new Date(unixS * 1000).toISOString().slice(0, 10);
}

// ---- the actions ----

function applyUpload(p: Params, sessions: Map<string, Session>, opts: FakeVodOptions, now: () => number): Params {
  const mediaType = p.MediaType;
  if (typeof mediaType !== 'string' || !MEDIA_TYPES.has(mediaType.toLowerCase())) throw new ApiError('InvalidParameterValue.MediaType', `MediaType ${String(mediaType)} is not a media type`);
  check(p, 'MediaName', (v) => typeof v === 'string');
  check(p, 'CoverType', (v) => typeof v === 'string' && COVER_TYPES.has(v.toLowerCase()));
  check(p, 'ExpireTime', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v)));
  check(p, 'StorageRegion', (v) => typeof v === 'string' && /^[a-z]+(-[a-z]+)+(-\d+)?$/.test(v));
  check(p, 'ClassId', isId);
  check(p, 'SubAppId', isId);
  check(p, 'Procedure', (v) => typeof v === 'string');
  check(p, 'SourceContext', (v) => typeof v === 'string' && v.length <= 250); // VOD's own limits
  check(p, 'SessionContext', (v) => typeof v === 'string' && v.length <= 1000);

  const type = mediaType.toLowerCase();
  const name = typeof p.MediaName === 'string' && p.MediaName ? p.MediaName.replace(/[/\\]/g, '_') : 'f0';
  const dir = `/${digits(19)}/${alnum(12)}`;
  const session: Session = {
    bucket: opts.bucket ?? 'vodupload-1250000000',
    region: typeof p.StorageRegion === 'string' ? p.StorageRegion : (opts.region ?? 'ap-guangzhou'),
    path: `${dir}/${name}.${type}`,
    mediaType: type,
    subAppId: typeof p.SubAppId === 'number' ? p.SubAppId : undefined,
    committed: false,
  };
  const sessionKey = alnum(64);
  sessions.set(sessionKey, session);

  // A fresh credential per upload, like VOD's own: good for COS only (not for VOD's API), for this
  // upload's folder only, and for a while only.
  const expiresAt = now() + (opts.credentialSeconds ?? TEMP_CREDENTIAL_S) * 1000;
  const temp = { SecretId: `AKID${alnum(32)}`, SecretKey: alnum(32), Token: alnum(96), ExpiredTime: Math.floor(expiresAt / 1000) };
  opts.cos.addCredential(temp.SecretId, temp.SecretKey, temp.Token, { expiresAt, bucket: session.bucket, keyPrefix: `${dir.slice(1)}/` });

  return {
    StorageBucket: session.bucket,
    StorageRegion: session.region,
    VodSessionKey: sessionKey,
    MediaStoragePath: session.path,
    ...(typeof p.CoverType === 'string' ? { CoverStoragePath: `${dir}/${name}.${p.CoverType.toLowerCase()}` } : {}),
    TempCertificate: temp,
  };
}

function commitUpload(p: Params, sessions: Map<string, Session>, cos: CosForVod, nextFileId: () => string): Params {
  const key = p.VodSessionKey;
  const session = typeof key === 'string' ? sessions.get(key) : undefined;
  if (!session) throw new ApiError('InvalidParameterValue.VodSessionKey', 'VodSessionKey is missing or unknown');
  if (session.committed) throw new ApiError('InvalidParameterValue.VodSessionKey', 'this upload session was already committed');
  check(p, 'SubAppId', isId);
  const subAppId = typeof p.SubAppId === 'number' ? p.SubAppId : undefined;
  if (subAppId !== session.subAppId)
    throw new ApiError('InvalidParameterValue.SubAppId', `the session was applied with SubAppId ${session.subAppId ?? '(none)'}, committed with ${subAppId ?? '(none)'}`);
  const missing = missingMedia(cos, session);
  if (missing) throw new ApiError('FailedOperation.MediaNotFound', `${missing} is not in bucket ${session.bucket}`);
  session.committed = true;
  return { FileId: nextFileId(), MediaUrl: `http://${session.bucket}.vod2.myqcloud.com${session.path}`, CoverUrl: '' };
}

/** The first object the media needs that is not in COS: the file itself, and for HLS what its playlist names. */
function missingMedia(cos: CosForVod, s: Session): string | null {
  const key = s.path.slice(1);
  const body = cos.object(s.bucket, key);
  if (!body) return key;
  if (s.mediaType !== 'm3u8') return null;
  return (
    playlistUris(body.toString('utf8'))
      .map((uri) => relativeKey(key, uri))
      .find((k) => k !== null && !cos.object(s.bucket, k)) ?? null
  );
}

/** Segment lines and URI="..." attributes (EXT-X-MAP, EXT-X-KEY) of a playlist. */
function playlistUris(text: string): string[] {
  return text.split(/\r?\n/).flatMap((raw) => {
    const line = raw.trim();
    if (!line) return [];
    if (!line.startsWith('#')) return [line];
    const attr = /URI="([^"]+)"/.exec(line);
    return attr?.[1] ? [attr[1]] : [];
  });
}

/** The COS key a playlist entry names beside the playlist, or null for an absolute URL elsewhere. */
function relativeKey(playlistKey: string, uri: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) return null;
  const u = new URL(uri, `http://bucket/${playlistKey}`);
  return decodeURIComponent(u.pathname.slice(1));
}

// ---- small helpers ----

/** Throws InvalidParameterValue.<name> when the optional parameter is there but not valid. */
function check(p: Params, name: string, valid: (v: unknown) => boolean): void {
  if (p[name] !== undefined && !valid(p[name])) throw new ApiError(`InvalidParameterValue.${name}`, `${name} ${JSON.stringify(p[name])} is not valid`);
}

function isId(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function alnum(n: number): string {
  return Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
}

function digits(n: number): string {
  return String(randomInt(1, 10)) + Array.from({ length: n - 1 }, () => randomInt(0, 10)).join('');
}

/** VOD FileIds are long decimal strings; a counter keeps them unique within one fake. */
function fileId(n: number): string {
  return `5285890${String(n).padStart(12, '0')}`;
}
