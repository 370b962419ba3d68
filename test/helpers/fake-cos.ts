// A fake Tencent Cloud COS (the XML API) for tests, on 127.0.0.1: objects, multipart uploads,
// listing and multi-delete, stored as files. It recomputes the q-sign-algorithm=sha1 signature of
// every signed request from what it received, the way COS does, so a client that signs wrongly
// (wrong secret, wrong host, an unsigned parameter) fails here instead of in production.
//
// The SDK reaches it with `Ip: fake.ip`: requests go to this address while the Host header (and the
// signature) keep the bucket's own host, `<bucket>.cos.<region>.myqcloud.com`. Any other Host means
// path-style, `/<bucket>/<key>`, which is how players read a public bucket here.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export type CosRequest = {
  method: string;
  bucket: string;
  key: string;
  /** 'putObject' | 'getObject' | 'headObject' | 'deleteObject' | 'initiateMultipart' | 'uploadPart' | 'completeMultipart' | 'abortMultipart' | 'listParts' | 'listObjects' | 'deleteMultiple' | 'headBucket' | 'options' | 'unsupported' | 'invalid' */
  op: string;
  /** The status answered; 0 while (or when) a request gets no answer (hang, close, client gone). */
  status: number;
  /** Date.now() on arrival. */
  at: number;
  partNumber?: number;
  /** Bytes of the request body, when one was read. */
  size?: number;
};

export type FakeCos = {
  /** http://127.0.0.1:<port> */
  url: string;
  /** `host:port` to pass as the SDK's `Ip` option */
  ip: string;
  /** where objects are stored on disk: <dir>/<bucket>/<key> */
  dir: string;
  /** every request handled, in arrival order (failed/refused ones too) */
  log: CosRequest[];
  /** the stored object's bytes, or null */
  object(bucket: string, key: string): Buffer | null;
  /** stored keys of a bucket (sorted), optionally under a prefix */
  keys(bucket: string, prefix?: string): string[];
  /** the stored object's Content-Type, or null */
  contentType(bucket: string, key: string): string | null;
  /** accepts one more credential (e.g. temporary credentials with a session token, which must then come as x-cos-security-token), optionally only until a time and for some keys */
  addCredential(secretId: string, secretKey: string, token?: string, limits?: CredentialLimits): void;
  /** the next `n` requests (optionally only those whose op matches) answer `status` (default 503) with a COS XML error body, before anything is stored; `n` ≤ 0 cancels pending ones (of `op`) */
  failNext(n: number, opts?: { status?: number; op?: string }): void;
  /** from now on, every request (optionally only of `op`) hangs without an answer until `close()` (which drops it) or until `hang(false)` (which lets it go on) */
  hang(on: boolean, opts?: { op?: string }): void;
  close(): Promise<void>;
};

/** What a temporary credential may do, as COS's own (from STS, or VOD's ApplyUpload) are limited. */
export type CredentialLimits = {
  /** Date.now() past which it is refused */
  expiresAt?: number;
  /** the only bucket it opens */
  bucket?: string;
  /** the only keys it opens: those under this prefix */
  keyPrefix?: string;
};

export type FakeCosOptions = {
  credentials: { secretId: string; secretKey: string; token?: string }[];
  /** Default: a fresh temp dir, removed by close(). */
  dir?: string;
  /** Unsigned GET/HEAD (and CORS preflights) are allowed, as for a public-read bucket; signed ones are still checked. */
  publicRead?: boolean;
  /**
   * When a completed multipart upload's parts become one object. 'complete' (the default): joined
   * into one file before CompleteMultipartUpload answers. 'read': kept as they are and joined as the
   * object is read, as a store whose completion is only bookkeeping does; the bench uses it, so the
   * fake's own copying is not counted as the recorder's time.
   */
  joinParts?: 'complete' | 'read';
};

const MIN_PART_BYTES = 1024 * 1024; // COS: every part but the last is at least 1 MiB
const MAX_PARTS = 10000;
const MAX_KEYS = 1000; // per listing page and per multi-delete
const SKEW_S = 60;
const MAX_XML_BYTES = 2 * 1024 * 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]*-\d+$/;
const COS_HOST = /^([a-z0-9][a-z0-9-]*-\d+)\.cos\.([a-z0-9-]+)\.myqcloud\.com(?::\d+)?$/;
const AUTH_FIELDS = ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list', 'q-url-param-list', 'q-signature'] as const;
const TOKEN_HEADER = 'x-cos-security-token';
/** Headers stored with an object and answered with it. */
const KEPT_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const OWNER = { ID: 'qcs::cam::uin/100000000001:uin/100000000001', DisplayName: '100000000001' };

/** A COS error answer: status, `<Code>` and `<Message>`. */
class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Credential = { secretKey: string; token: string | undefined; limits: CredentialLimits };
type Target = { bucket: string; region: string | null; key: string; pathname: string; query: Map<string, string>; host: string };
type Ctx = { req: http.IncomingMessage; res: http.ServerResponse; target: Target; entry: CosRequest };
type Failure = { left: number; status: number; op: string | undefined };
type Held = { op: string; release(): void; drop(): void };
/** `parts`: an object kept as the files of its parts, in order (joinParts 'read'). */
type Meta = { etag: string; headers: Record<string, string>; parts?: { file: string; size: number }[] };
type Part = { etag: string; size: number; file: string; at: Date };
type Upload = { bucket: string; key: string; headers: Record<string, string>; parts: Map<number, Part>; at: Date };

export async function startFakeCos(opts: FakeCosOptions): Promise<FakeCos> {
  const madeDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fake-cos-'));
  mkdirSync(dir, { recursive: true });
  const store = new Store(dir);
  const credentials = new Map<string, Credential>();
  const addCredential = (secretId: string, secretKey: string, token?: string, limits: CredentialLimits = {}) => void credentials.set(secretId, { secretKey, token, limits });
  for (const c of opts.credentials) addCredential(c.secretId, c.secretKey, c.token);
  const log: CosRequest[] = [];
  const failures: Failure[] = [];
  const hangs = new Set<string>(); // op names, or '*'
  const held = new Set<Held>();
  const uploads = new Map<string, Upload>();
  const ops = operations(store, uploads, opts.joinParts ?? 'complete');
  const hangsFor = (op: string) => hangs.has('*') || hangs.has(op);

  /** Waits while `op` hangs: true when let go, false when dropped (close) or the client went away. */
  const hold = (ctx: Ctx): Promise<boolean> =>
    new Promise((resolve) => {
      const h: Held = {
        op: ctx.entry.op,
        release: () => held.delete(h) && resolve(true),
        drop: () => {
          held.delete(h);
          ctx.req.socket.destroy();
          resolve(false);
        },
      };
      held.add(h);
      ctx.req.socket.once('close', () => held.delete(h) && resolve(false));
    });

  /** The first injected failure that matches `op`, used up. */
  const injected = (op: string): Failure | undefined => {
    const f = failures.find((x) => x.left > 0 && (x.op === undefined || x.op === op));
    if (f) f.left--;
    return f;
  };

  const serve = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const entry: CosRequest = { method: req.method ?? '', bucket: '', key: '', op: 'invalid', status: 0, at: Date.now() };
    log.push(entry); // on arrival, so the log is in arrival order
    res.setHeader('x-cos-request-id', requestId());
    res.setHeader('Server', 'tencent-cos');
    logStatus(res, entry);
    let ctx: Ctx | undefined;
    try {
      const target = parseTarget(req);
      Object.assign(entry, { bucket: target.bucket, key: target.key, op: opOf(req.method ?? '', target) });
      ctx = { req, res, target, entry };
      if (hangsFor(entry.op) && !(await hold(ctx))) return;
      const failure = injected(entry.op);
      if (failure) throw new CosError(failure.status, codeFor(failure.status), `failure injected by failNext for ${entry.op}`);
      if (opts.publicRead && ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '')) allowCrossOrigin(res);
      authorize(req, target, credentials, !!opts.publicRead);
      const op = ops[entry.op];
      if (!op) throw new CosError(501, 'NotImplemented', `${req.method} ${req.url} is not an operation this fake COS knows`);
      await op(ctx);
    } catch (e) {
      await answerError(req, res, e, ctx?.target);
    }
  };

  const server = http.createServer((req, res) => void serve(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    ip: `127.0.0.1:${port}`,
    dir,
    log,
    object: (bucket, key) => store.read(bucket, key),
    keys: (bucket, prefix = '') => store.keys(bucket, prefix),
    contentType: (bucket, key) => (store.has(bucket, key) ? (store.meta(bucket, key).headers['content-type'] ?? null) : null),
    addCredential,
    failNext(n, o = {}) {
      if (n > 0) failures.push({ left: n, status: o.status ?? 503, op: o.op });
      else for (const f of failures) if (o.op === undefined || f.op === o.op) f.left = 0;
    },
    hang(on, o = {}) {
      const op = o.op ?? '*';
      if (on) return void hangs.add(op);
      if (op === '*') hangs.clear();
      else hangs.delete(op);
      for (const h of [...held]) if (!hangsFor(h.op)) h.release();
    },
    async close() {
      for (const h of [...held]) h.drop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      if (madeDir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** Puts the status in the log as it is sent, before the client can see the answer end. */
function logStatus(res: http.ServerResponse, entry: CosRequest): void {
  const writeHead = res.writeHead as (...args: unknown[]) => http.ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    entry.status = args[0] as number;
    return writeHead.apply(res, args);
  }) as typeof res.writeHead;
}

// ---- requests: which bucket, key and operation ----

/** Bucket from a COS Host (virtual-hosted), else from the first path segment (path-style). */
function parseTarget(req: http.IncomingMessage): Target {
  const host = req.headers.host ?? '';
  const [rawPath = '/', rawQuery = ''] = (req.url ?? '/').split(/\?(.*)/s, 2);
  const pathname = decode(rawPath);
  const query = parseQuery(rawQuery);
  const virtual = COS_HOST.exec(host);
  let bucket: string;
  let key: string;
  if (virtual) {
    bucket = virtual[1]!;
    key = pathname.slice(1);
  } else {
    const m = /^\/([^/]*)\/?(.*)$/s.exec(pathname);
    bucket = m?.[1] ?? '';
    key = m?.[2] ?? '';
    if (!BUCKET_NAME.test(bucket)) throw new CosError(400, 'InvalidBucketName', `bucket ${JSON.stringify(bucket)} is not <name>-<appid> (Host ${host}, path-style)`);
  }
  if (key) checkKey(key);
  return { bucket, region: virtual?.[2] ?? null, key, pathname, query, host };
}

/** Keys become file paths: `..` would leave the bucket, and empty or `.` segments cannot round-trip. */
function checkKey(key: string): void {
  if (key.includes('\0') || key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new CosError(400, 'InvalidURI', `key ${JSON.stringify(key)} has an empty, "." or ".." segment`);
  }
}

function opOf(method: string, t: Target): string {
  const q = t.query;
  if (method === 'OPTIONS') return 'options';
  if (!t.key) {
    if (method === 'GET' && !q.has('uploads')) return 'listObjects';
    if (method === 'HEAD') return 'headBucket';
    if (method === 'POST' && q.has('delete')) return 'deleteMultiple';
    return 'unsupported';
  }
  const upload = q.has('uploadId');
  switch (method) {
    case 'PUT':
      return upload && q.has('partNumber') ? 'uploadPart' : upload ? 'unsupported' : 'putObject';
    case 'GET':
      return upload ? 'listParts' : 'getObject';
    case 'HEAD':
      return 'headObject';
    case 'DELETE':
      return upload ? 'abortMultipart' : 'deleteObject';
    case 'POST':
      return q.has('uploads') ? 'initiateMultipart' : upload ? 'completeMultipart' : 'unsupported';
    default:
      return 'unsupported';
  }
}

/** Percent-decoding as COS does it for the path and query: '+' stays '+'. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new CosError(400, 'InvalidURI', `${JSON.stringify(s)} is not valid percent-encoding`);
  }
}

function parseQuery(raw: string): Map<string, string> {
  const q = new Map<string, string>();
  for (const pair of raw.split('&')) {
    if (!pair) continue;
    const [name, value] = splitPair(pair).map(decode) as [string, string];
    if (!q.has(name)) q.set(name, value);
  }
  return q;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

// ---- the signature (https://cloud.tencent.com/document/product/436/7778) ----

type Signed = { fields: Record<(typeof AUTH_FIELDS)[number], string>; inQuery: boolean };

function authorize(req: http.IncomingMessage, t: Target, credentials: Map<string, Credential>, publicRead: boolean): void {
  const signed = signedFields(req, t);
  if (!signed) {
    if (publicRead && ['GET', 'HEAD', 'OPTIONS'].includes(req.method ?? '')) return;
    throw new CosError(403, 'AccessDenied', 'the request is not signed (no Authorization header) and the bucket is not public-read');
  }
  verifySignature(req, t, signed, credentials, Date.now() / 1000);
}

/** The q-* fields from the Authorization header or, for GET/HEAD (presigned URLs), from the query. */
function signedFields(req: http.IncomingMessage, t: Target): Signed | null {
  const auth = header(req, 'authorization');
  let source: Map<string, string>;
  let inQuery = false;
  if (auth) {
    source = new Map(auth.split('&').map(splitPair)); // values here are not percent-encoded
  } else if (t.query.has('q-sign-algorithm')) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new CosError(403, 'AccessDenied', `a signature in the query is accepted for GET and HEAD only, not ${req.method}`);
    source = t.query;
    inQuery = true;
  } else {
    return null;
  }
  const fields = {} as Signed['fields'];
  for (const name of AUTH_FIELDS) {
    const v = source.get(name);
    if (v === undefined) throw new CosError(403, 'AccessDenied', `the signature has no ${name}`);
    fields[name] = v;
  }
  return { fields, inQuery };
}

function verifySignature(req: http.IncomingMessage, t: Target, { fields, inQuery }: Signed, credentials: Map<string, Credential>, nowS: number): void {
  if (fields['q-sign-algorithm'] !== 'sha1') throw new CosError(403, 'AccessDenied', `q-sign-algorithm ${fields['q-sign-algorithm']} is not sha1`);
  const credential = credentials.get(fields['q-ak']);
  if (!credential) throw new CosError(403, 'InvalidAccessKeyId', `q-ak ${fields['q-ak']} is not a known SecretId`);
  checkSignTime(fields['q-sign-time'], fields['q-key-time'], nowS);

  const headerList = splitList(fields['q-header-list']);
  const paramList = splitList(fields['q-url-param-list']);
  if (!headerList.includes('host')) throw new CosError(403, 'AccessDenied', 'host is not among the signed headers (q-header-list)');
  const token = inQuery ? t.query.get(TOKEN_HEADER) : header(req, TOKEN_HEADER);
  if (credential.token !== undefined && token !== credential.token) {
    throw new CosError(403, 'AccessDenied', `${TOKEN_HEADER} ${token === undefined ? 'is missing' : 'does not match'}: SecretId ${fields['q-ak']} is a temporary credential`);
  }

  const params = signedParams(t.query, paramList, inQuery);
  const headers = headerList.map((name) => {
    const v = header(req, name);
    if (v === undefined) throw new CosError(403, 'SignatureDoesNotMatch', `signed header ${name} is not in the request`);
    return [name, cosEncode(v)] as const;
  });
  const httpString = [req.method!.toLowerCase(), t.pathname, pairs(params), pairs(headers), ''].join('\n');
  const stringToSign = ['sha1', fields['q-sign-time'], sha1hex(httpString), ''].join('\n');
  const signKey = hmacSha1hex(credential.secretKey, fields['q-key-time']);
  const expected = hmacSha1hex(signKey, stringToSign);
  const given = fields['q-signature'];
  if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
    throw new CosError(403, 'SignatureDoesNotMatch', `the signature does not match the one computed here from: ${JSON.stringify(httpString)}`);
  }
  checkLimits(fields['q-ak'], credential.limits, t, nowS * 1000);
}

/** A rightly signed request with a limited credential: refused outside its time, bucket or keys. */
function checkLimits(secretId: string, { expiresAt, bucket, keyPrefix }: CredentialLimits, t: Target, nowMs: number): void {
  if (expiresAt !== undefined && nowMs > expiresAt) throw new CosError(403, 'AccessDenied', `the temporary credential ${secretId} expired at ${new Date(expiresAt).toISOString()}`);
  if (bucket !== undefined && t.bucket !== bucket) throw new CosError(403, 'AccessDenied', `the credential ${secretId} does not open bucket ${t.bucket}`);
  if (keyPrefix !== undefined && !t.key.startsWith(keyPrefix)) throw new CosError(403, 'AccessDenied', `the credential ${secretId} opens keys under ${keyPrefix} only, not ${t.key || '(the bucket)'}`);
}

/** `<start>;<end>` in seconds; now must fall within the sign time, give or take the skew. */
function checkSignTime(signTime: string, keyTime: string, nowS: number): void {
  const m = /^(\d+);(\d+)$/.exec(signTime);
  if (!m || !/^\d+;\d+$/.test(keyTime)) throw new CosError(403, 'AccessDenied', `q-sign-time ${signTime} / q-key-time ${keyTime} is not <start>;<end>`);
  const [start, end] = [Number(m[1]), Number(m[2])];
  if (nowS < start - SKEW_S) throw new CosError(403, 'RequestTimeTooSkewed', `q-sign-time starts at ${start}, more than ${SKEW_S} s after now (${Math.floor(nowS)})`);
  if (nowS > end + SKEW_S) throw new CosError(403, 'AccessDenied', `Request has expired: q-sign-time ended at ${end}, now is ${Math.floor(nowS)}`);
}

/** The signed query parameters, encoded. Stricter than COS: every parameter must be signed (but the signature's own, in a presigned URL). */
function signedParams(query: Map<string, string>, list: string[], inQuery: boolean): (readonly [string, string])[] {
  const params: (readonly [string, string])[] = [];
  for (const [name, value] of query) {
    if (inQuery && ((AUTH_FIELDS as readonly string[]).includes(name) || name === TOKEN_HEADER)) continue;
    const key = cosEncode(name).toLowerCase();
    if (!list.includes(key)) throw new CosError(403, 'SignatureDoesNotMatch', `query parameter ${name} is not signed (q-url-param-list: ${list.join(';')})`);
    params.push([key, cosEncode(value)]);
  }
  const missing = list.find((name) => !params.some(([k]) => k === name));
  if (missing) throw new CosError(403, 'SignatureDoesNotMatch', `signed query parameter ${missing} is not in the request`);
  return params;
}

function splitPair(pair: string): [string, string] {
  const i = pair.indexOf('=');
  return i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
}

function splitList(list: string): string[] {
  return list ? list.split(';') : [];
}

function pairs(list: readonly (readonly [string, string])[]): string {
  return [...list]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** encodeURIComponent, and !'()* too. */
function cosEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha1hex(s: string): string {
  return createHash('sha1').update(s, 'utf8').digest('hex');
}

function hmacSha1hex(key: string, s: string): string {
  return createHmac('sha1', key).update(s, 'utf8').digest('hex');
}

// ---- the operations ----

function operations(store: Store, uploads: Map<string, Upload>, joinParts: 'complete' | 'read'): Record<string, (ctx: Ctx) => Promise<void>> {
  const uploadOf = (t: Target): [string, Upload] => {
    const id = t.query.get('uploadId') ?? '';
    const u = uploads.get(id);
    if (!u || u.bucket !== t.bucket || u.key !== t.key) throw new CosError(404, 'NoSuchUpload', `upload ${id} is not in progress for ${t.bucket}/${t.key}`);
    return [id, u];
  };

  return {
    async putObject({ req, res, target: t, entry }) {
      if (req.headers['x-cos-copy-source']) throw new CosError(501, 'NotImplemented', 'PUT Object - Copy is not implemented here');
      const file = store.incoming();
      const got = await receive(req, file);
      entry.size = got.size;
      await store.commit(t.bucket, t.key, file, { etag: got.md5.toString('hex'), headers: keptHeaders(req) });
      answer(res, 200, { etag: `"${got.md5.toString('hex')}"` });
    },

    getObject: (ctx) => sendObject(ctx, store, true),
    headObject: (ctx) => sendObject(ctx, store, false),

    async deleteObject({ req, res, target: t }) {
      await drain(req);
      await store.remove(t.bucket, t.key);
      answer(res, 204);
    },

    async headBucket({ req, res }) {
      await drain(req);
      answer(res, 200);
    },

    async options({ req, res }) {
      await drain(req);
      answer(res, 200);
    },

    async listObjects({ req, res, target: t }) {
      await drain(req);
      sendXml(res, 200, listBucket(store, t));
    },

    async deleteMultiple({ req, res, target: t, entry }) {
      const body = await receiveXml(req, entry);
      const objects = elements(body, 'Object').map((o) => textOf(o, 'Key', false) ?? '');
      if (!/<Delete[\s>]/.test(body) || objects.length === 0 || objects.length > MAX_KEYS) {
        throw new CosError(400, 'MalformedXML', `Delete must list 1 to ${MAX_KEYS} Object elements`);
      }
      const quiet = textOf(body, 'Quiet') === 'true';
      const deleted: { Key: string }[] = [];
      const errors: { Key: string; Code: string; Message: string }[] = [];
      for (const key of objects) {
        try {
          checkKey(key);
          await store.remove(t.bucket, key);
          deleted.push({ Key: key });
        } catch (e) {
          const err = e instanceof CosError ? e : new CosError(500, 'InternalError', String(e));
          errors.push({ Key: key, Code: err.code, Message: err.message });
        }
      }
      sendXml(res, 200, { DeleteResult: { Deleted: quiet ? [] : deleted, Error: errors } });
    },

    async initiateMultipart({ req, res, target: t }) {
      await drain(req);
      const id = uploadId();
      uploads.set(id, { bucket: t.bucket, key: t.key, headers: keptHeaders(req), parts: new Map(), at: new Date() });
      sendXml(res, 200, { InitiateMultipartUploadResult: { Bucket: t.bucket, Key: t.key, UploadId: id } });
    },

    async uploadPart({ req, res, target: t, entry }) {
      const n = Number(t.query.get('partNumber'));
      if (!Number.isInteger(n) || n < 1 || n > MAX_PARTS) throw new CosError(400, 'InvalidArgument', `partNumber ${t.query.get('partNumber')} is not 1 to ${MAX_PARTS}`);
      entry.partNumber = n;
      const [id] = uploadOf(t);
      const file = store.incoming();
      const got = await receive(req, file);
      entry.size = got.size;
      const u = uploads.get(id); // it may have been aborted or completed meanwhile
      if (!u) {
        await rm(file, { force: true });
        throw new CosError(404, 'NoSuchUpload', `upload ${id} ended while part ${n} came in`);
      }
      const etag = got.md5.toString('hex');
      const old = u.parts.get(n);
      u.parts.set(n, { etag, size: got.size, file, at: new Date() });
      if (old) await rm(old.file, { force: true });
      answer(res, 200, { etag: `"${etag}"` });
    },

    async completeMultipart({ req, res, target: t, entry }) {
      const [id, u] = uploadOf(t);
      const body = await receiveXml(req, entry);
      const parts = partsToComplete(body, u);
      uploads.delete(id);
      const etag = `${createHash('md5')
        .update(Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex'))))
        .digest('hex')}-${parts.length}`;
      if (joinParts === 'read') {
        // The parts become the object; those uploaded but not listed are dropped, as COS drops them.
        for (const [n, p] of u.parts) if (!parts.includes(p)) u.parts.delete(n);
        await store.commitParts(t.bucket, t.key, { etag, headers: u.headers, parts: parts.map((p) => ({ file: p.file, size: p.size })) });
        u.parts.clear();
      } else {
        const file = store.incoming();
        try {
          await concatenate(
            parts.map((p) => p.file),
            file,
          );
        } catch (e) {
          uploads.set(id, u);
          throw e;
        }
        await store.commit(t.bucket, t.key, file, { etag, headers: u.headers });
      }
      await dropParts(u);
      const location = t.region ? `${t.bucket}.cos.${t.region}.myqcloud.com/${t.key}` : `${t.host}/${t.bucket}/${t.key}`;
      sendXml(res, 200, { CompleteMultipartUploadResult: { Location: location, Bucket: t.bucket, Key: t.key, ETag: `"${etag}"` } });
    },

    async abortMultipart({ req, res, target: t }) {
      await drain(req);
      const [id, u] = uploadOf(t);
      uploads.delete(id);
      await dropParts(u);
      answer(res, 204);
    },

    async listParts({ req, res, target: t }) {
      await drain(req);
      const [id, u] = uploadOf(t);
      const marker = Number(t.query.get('part-number-marker') ?? 0);
      const max = Math.min(Number(t.query.get('max-parts') ?? 1000), 1000);
      const all = [...u.parts.entries()].sort(([a], [b]) => a - b).filter(([n]) => n > marker);
      const page = all.slice(0, max);
      sendXml(res, 200, {
        ListPartsResult: {
          Bucket: t.bucket,
          Key: t.key,
          UploadId: id,
          Initiator: OWNER,
          Owner: OWNER,
          StorageClass: 'STANDARD',
          PartNumberMarker: marker,
          NextPartNumberMarker: page.at(-1)?.[0] ?? marker,
          MaxParts: max,
          IsTruncated: all.length > page.length,
          Part: page.map(([n, p]) => ({ PartNumber: n, LastModified: p.at.toISOString(), ETag: `"${p.etag}"`, Size: p.size })),
        },
      });
    },
  };
}

/** GET or HEAD of an object, with a single `Range: bytes=…` honoured (206). */
async function sendObject({ req, res, target: t }: Ctx, store: Store, withBody: boolean): Promise<void> {
  await drain(req);
  const found = store.stat(t.bucket, t.key);
  if (!found) throw new CosError(404, 'NoSuchKey', `the object ${t.key} does not exist`);
  const { size, mtime, meta } = found;
  // Lowercase names throughout, so that response-* overrides replace rather than add.
  const headers: Record<string, string | number> = { ...meta.headers, etag: `"${meta.etag}"`, 'last-modified': mtime.toUTCString(), 'accept-ranges': 'bytes' };
  for (const [name, value] of t.query) if (name.startsWith('response-') && KEPT_HEADERS.includes(name.slice(9))) headers[name.slice(9)] = value;
  const range = withBody ? parseRange(header(req, 'range'), size) : null;
  if (range === 'unsatisfiable') {
    res.setHeader('content-range', `bytes */${size}`);
    throw new CosError(416, 'InvalidRange', `Range ${header(req, 'range')} is outside the object's ${size} bytes`);
  }
  const [start, end] = range ?? [0, size - 1];
  if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': end - start + 1 });
  if (!withBody || end < start) return void res.end();
  if (!meta.parts) return pipeline(createReadStream(store.path(t.bucket, t.key), { start, end }), res);
  // An object kept as its parts: the stretch [start, end] read from the parts it spans.
  let from = 0;
  for (const part of meta.parts) {
    const to = from + part.size - 1;
    if (to >= start && from <= end) await pipeline(createReadStream(part.file, { start: Math.max(start, from) - from, end: Math.min(end, to) - from }), res, { end: false });
    from += part.size;
  }
  res.end();
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` → [start, end]; anything else is ignored (null), as HTTP says. */
function parseRange(value: string | undefined, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(value?.trim() ?? '');
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return 'unsatisfiable';
  return end < start ? null : [start, end];
}

/** ListBucketResult for prefix, delimiter, marker and max-keys (and encoding-type=url). */
function listBucket(store: Store, t: Target) {
  const q = t.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const marker = q.get('marker') ?? '';
  const maxKeys = Number(q.get('max-keys') ?? MAX_KEYS);
  if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new CosError(400, 'InvalidArgument', `max-keys ${q.get('max-keys')} is not a whole number`);
  const max = Math.min(maxKeys, MAX_KEYS);
  const enc = q.get('encoding-type') === 'url' ? cosEncode : (s: string) => s;

  const contents: string[] = [];
  const commonPrefixes: string[] = [];
  let truncated = false;
  let last = '';
  for (const key of store.keys(t.bucket, prefix)) {
    if (byteOrder(key, marker) <= 0) continue;
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const common = cut >= 0 ? key.slice(0, cut + delimiter.length) : null;
    if (common !== null && (common === commonPrefixes.at(-1) || byteOrder(common, marker) <= 0)) continue;
    if (contents.length + commonPrefixes.length === max) {
      truncated = true;
      break;
    }
    if (common !== null) commonPrefixes.push(common);
    else contents.push(key);
    last = common ?? key;
  }
  return {
    ListBucketResult: {
      Name: t.bucket,
      EncodingType: q.get('encoding-type'),
      Prefix: enc(prefix),
      Marker: enc(marker),
      MaxKeys: max,
      Delimiter: delimiter ? enc(delimiter) : undefined,
      IsTruncated: truncated,
      NextMarker: truncated ? enc(last) : undefined,
      CommonPrefixes: commonPrefixes.map((p) => ({ Prefix: enc(p) })),
      Contents: contents.map((key) => {
        const s = store.stat(t.bucket, key)!;
        return { Key: enc(key), LastModified: s.mtime.toISOString(), ETag: `"${s.meta.etag}"`, Size: s.size, Owner: OWNER, StorageClass: 'STANDARD' };
      }),
    },
  };
}

/** The parts a CompleteMultipartUpload body names, checked as COS checks them. */
function partsToComplete(body: string, u: Upload): Part[] {
  if (!/<CompleteMultipartUpload[\s>]/.test(body)) throw new CosError(400, 'MalformedXML', 'the body is not a CompleteMultipartUpload');
  const listed = elements(body, 'Part').map((p) => ({ n: Number(textOf(p, 'PartNumber')), etag: (textOf(p, 'ETag') ?? '').replace(/"/g, '') }));
  if (listed.length === 0) throw new CosError(400, 'MalformedXML', 'CompleteMultipartUpload lists no Part');
  listed.forEach(({ n }, i) => {
    if (i > 0 && !(n > listed[i - 1]!.n)) throw new CosError(400, 'InvalidPartOrder', `part ${n} comes after part ${listed[i - 1]!.n}: parts must be in ascending order`);
  });
  const parts = listed.map(({ n, etag }) => {
    const part = u.parts.get(n);
    if (!part || part.etag !== etag) throw new CosError(400, 'InvalidPart', `part ${n} with ETag "${etag}" was not uploaded`);
    return part;
  });
  parts.slice(0, -1).forEach((part, i) => {
    if (part.size < MIN_PART_BYTES) throw new CosError(400, 'EntityTooSmall', `part ${listed[i]!.n} is ${part.size} bytes; every part but the last must be at least ${MIN_PART_BYTES}`);
  });
  return parts;
}

async function concatenate(files: string[], to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  // One read stream after another into one file handle: piping each into one write stream would add
  // listeners to it per part (Node's MaxListeners warning past ten parts).
  const out = await open(to, 'w');
  try {
    for (const f of files) for await (const chunk of createReadStream(f)) await out.write(chunk as Buffer);
    await out.close();
  } catch (e) {
    await out.close().catch(() => undefined);
    await rm(to, { force: true });
    throw e;
  }
}

async function dropParts(u: Upload): Promise<void> {
  await Promise.all([...u.parts.values()].map((p) => rm(p.file, { force: true })));
  u.parts.clear();
}

/** What COS keeps of the upload request's headers and answers with the object. */
function keptHeaders(req: http.IncomingMessage): Record<string, string> {
  const kept: Record<string, string> = { 'content-type': 'application/octet-stream' };
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && value !== '' && (KEPT_HEADERS.includes(name) || name.startsWith('x-cos-meta-'))) kept[name] = value;
  }
  return kept;
}

// ---- bodies ----

/** Streams the body to `file` (MD5 on the way) and checks Content-MD5 when the client sent one. */
async function receive(req: http.IncomingMessage, file: string): Promise<{ size: number; md5: Buffer }> {
  await mkdir(dirname(file), { recursive: true });
  const hash = createHash('md5');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(req, tap, createWriteStream(file));
  } catch (e) {
    await rm(file, { force: true });
    throw new CosError(400, 'IncompleteBody', `the body did not arrive whole: ${String(e)}`);
  }
  const md5 = hash.digest();
  try {
    checkContentMd5(req, md5);
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
  return { size, md5 };
}

/** A small XML body, as text. */
async function receiveXml(req: http.IncomingMessage, entry: CosRequest): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_XML_BYTES) throw new CosError(400, 'EntityTooLarge', `an XML body of more than ${MAX_XML_BYTES} bytes`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  entry.size = body.length;
  checkContentMd5(req, createHash('md5').update(body).digest());
  return body.toString('utf8');
}

function checkContentMd5(req: http.IncomingMessage, md5: Buffer): void {
  const given = header(req, 'content-md5');
  if (given === undefined) return;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(given)) throw new CosError(400, 'InvalidDigest', `Content-MD5 ${given} is not a base64 MD5`);
  if (given !== md5.toString('base64')) throw new CosError(400, 'BadDigest', `Content-MD5 ${given} is not the MD5 of the body (${md5.toString('base64')})`);
}

/** Reads and forgets a body we have no use for, so the connection can carry the next request. */
async function drain(req: http.IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('close', resolve);
  });
}

// ---- answers ----

/** A whole answer without a body (or an empty one). */
function answer(res: http.ServerResponse, status: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(status, status === 204 ? headers : { 'content-length': 0, ...headers });
  res.end();
}

function sendXml(res: http.ServerResponse, status: number, root: XmlObject): void {
  const body = Buffer.from(xmlDocument(root));
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': body.length });
  res.end(body);
}

async function answerError(req: http.IncomingMessage, res: http.ServerResponse, e: unknown, t: Target | undefined): Promise<void> {
  const err = e instanceof CosError ? e : new CosError(500, 'InternalError', String(e));
  if (res.headersSent) return void res.destroy(); // the answer had begun: cut it short
  await drain(req); // so the client gets the answer, not a reset, while it is still sending
  const requestId = String(res.getHeader('x-cos-request-id'));
  const error = { Error: { Code: err.code, Message: err.message, Resource: t ? `${t.host}${t.pathname}` : req.url, RequestId: requestId, TraceId: requestId } };
  if (req.method === 'HEAD') answer(res, err.status);
  else sendXml(res, err.status, error);
}

/** CORS for a public-read bucket, so a browser's <video crossorigin> can read it. */
function allowCrossOrigin(res: http.ServerResponse): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD');
  res.setHeader('Access-Control-Allow-Headers', 'Range, Origin, Accept');
  res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges, ETag, x-cos-request-id');
}

function codeFor(status: number): string {
  const codes: Record<number, string> = { 400: 'InvalidRequest', 403: 'AccessDenied', 404: 'NoSuchKey', 429: 'SlowDown', 500: 'InternalError', 503: 'ServiceUnavailable' };
  return codes[status] ?? (status >= 500 ? 'InternalError' : 'InvalidRequest');
}

function requestId(): string {
  return randomBytes(24).toString('base64');
}

function uploadId(): string {
  return `${Math.floor(Date.now() / 1000)}${randomBytes(32).toString('hex')}`;
}

// ---- XML: tiny builder and reader, enough for COS's flat bodies ----

type XmlValue = string | number | boolean | null | undefined | XmlObject | XmlValue[];
interface XmlObject {
  [name: string]: XmlValue;
}

function xmlDocument(root: XmlObject): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xmlOf(root)}`;
}

/** An object's entries as elements; an array repeats its element. */
function xmlOf(obj: XmlObject): string {
  return Object.entries(obj)
    .map(([name, value]) => element(name, value))
    .join('');
}

function element(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
  if (typeof value === 'object') return `<${name}>${xmlOf(value)}</${name}>`;
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The inner text of every `<name>…</name>` (or `<name/>`); no nesting of the same name in COS's bodies. */
function elements(xml: string, name: string): string[] {
  const re = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}>)`, 'g');
  return [...xml.matchAll(re)].map((m) => m[1] ?? '');
}

function textOf(xml: string, name: string, trim = true): string | undefined {
  const inner = elements(xml, name)[0];
  if (inner === undefined) return undefined;
  const text = unescapeXml(inner);
  return trim ? text.trim() : text;
}

function unescapeXml(s: string): string {
  const cdata = /^<!\[CDATA\[([\s\S]*)\]\]>$/.exec(s);
  if (cdata) return cdata[1]!;
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : named[e.toLowerCase()]!,
  );
}

// ---- objects on disk ----

/**
 * Objects at <dir>/<bucket>/<key>, their ETag and headers at <dir>/.meta/<bucket>/<key> (JSON),
 * bodies and parts on their way in under <dir>/.incoming. Bucket names never start with a dot.
 */
class Store {
  constructor(readonly dir: string) {}

  path(bucket: string, key: string): string {
    return join(this.dir, bucket, ...key.split('/'));
  }

  private metaPath(bucket: string, key: string): string {
    return join(this.dir, '.meta', bucket, ...key.split('/'));
  }

  incoming(): string {
    return join(this.dir, '.incoming', randomBytes(12).toString('hex'));
  }

  /** Moves a received body into place (atomic: readers see the old object or the new one). */
  async commit(bucket: string, key: string, file: string, meta: Meta): Promise<void> {
    const replaced = validKey(key) ? this.metaIfAny(bucket, key) : null;
    try {
      await mkdir(dirname(this.path(bucket, key)), { recursive: true });
      await rename(file, this.path(bucket, key));
      await mkdir(dirname(this.metaPath(bucket, key)), { recursive: true });
      await writeFile(this.metaPath(bucket, key), JSON.stringify(meta));
      await Promise.all((replaced?.parts ?? []).map((p) => rm(p.file, { force: true })));
    } catch (e) {
      await rm(file, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
        throw new CosError(409, 'FakeCosKeyConflict', `key ${key} and another key are a file and a directory at once on this fake's disk`);
      }
      throw e;
    }
  }

  /** An object kept as the files of its parts (`meta.parts`); an empty file holds its place under the key. */
  async commitParts(bucket: string, key: string, meta: Meta): Promise<void> {
    const placeholder = this.incoming();
    await mkdir(dirname(placeholder), { recursive: true });
    await writeFile(placeholder, '');
    await this.commit(bucket, key, placeholder, meta);
  }

  async remove(bucket: string, key: string): Promise<void> {
    await this.dropParts(bucket, key);
    for (const [root, file] of [
      [join(this.dir, bucket), this.path(bucket, key)],
      [join(this.dir, '.meta', bucket), this.metaPath(bucket, key)],
    ] as const) {
      await unlink(file).catch(() => {});
      await pruneEmptyDirs(dirname(file), root);
    }
  }

  private async dropParts(bucket: string, key: string): Promise<void> {
    const old = validKey(key) ? this.metaIfAny(bucket, key) : null;
    await Promise.all((old?.parts ?? []).map((p) => rm(p.file, { force: true })));
  }

  has(bucket: string, key: string): boolean {
    return this.stat(bucket, key) !== null;
  }

  read(bucket: string, key: string): Buffer | null {
    try {
      if (!validKey(key)) return null;
      const bytes = readFileSync(this.path(bucket, key));
      const parts = this.metaIfAny(bucket, key)?.parts;
      return parts ? Buffer.concat(parts.map((p) => readFileSync(p.file))) : bytes;
    } catch {
      return null;
    }
  }

  // Synchronous reads: the fake serves tests, and the tests' own helpers (object, keys) are synchronous.
  stat(bucket: string, key: string): { size: number; mtime: Date; meta: Meta } | null {
    if (!validKey(key)) return null;
    try {
      const s = statSync(this.path(bucket, key));
      if (!s.isFile()) return null;
      const meta = this.meta(bucket, key);
      return { size: meta.parts ? meta.parts.reduce((n, p) => n + p.size, 0) : s.size, mtime: s.mtime, meta };
    } catch {
      return null;
    }
  }

  meta(bucket: string, key: string): Meta {
    return this.metaIfAny(bucket, key) ?? this.metaOfFile(bucket, key);
  }

  private metaIfAny(bucket: string, key: string): Meta | null {
    try {
      return JSON.parse(readFileSync(this.metaPath(bucket, key), 'utf8')) as Meta;
    } catch {
      return null;
    }
  }

  /** For a file put in `dir` by hand: its MD5, and COS's default type. */
  private metaOfFile(bucket: string, key: string): Meta {
    const etag = createHash('md5')
      .update(readFileSync(this.path(bucket, key)))
      .digest('hex');
    return { etag, headers: { 'content-type': 'application/octet-stream' } };
  }

  keys(bucket: string, prefix: string): string[] {
    if (!BUCKET_NAME.test(bucket)) return [];
    const keys: string[] = [];
    const walk = (dir: string, under: string) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const key = under + e.name;
        if (e.isDirectory()) walk(join(dir, e.name), `${key}/`);
        else if (e.isFile() && key.startsWith(prefix)) keys.push(key);
      }
    };
    walk(join(this.dir, bucket), '');
    return keys.sort(byteOrder);
  }
}

/** COS lists keys in UTF-8 byte order. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function validKey(key: string): boolean {
  try {
    checkKey(key);
    return key !== '';
  } catch {
    return false;
  }
}

/** Removes `dir` and its parents while empty, up to (not including) `root`. */
async function pruneEmptyDirs(dir: string, root: string): Promise<void> {
  for (let d = dir; d.startsWith(root) && d !== root; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
  }
}
