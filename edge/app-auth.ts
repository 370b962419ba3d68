// Application authentication of Tencent API Gateway (应用认证), as API.md "Authentication" states it,
// so the original product's clients keep their signing code. Web-standard and synchronous: the HMACs
// and MD5 of @noble/hashes (pure JS, audited). WebCrypto's HMAC would do, but on Node each call is a
// job on the thread pool: 50 µs a signature against 5, a third of the throughput (`npm run bench:auth`).
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { MiddlewareHandler } from 'hono';
import type { ApiKey } from '../protocol/api-keys.js';
import { base64, fromBase64, hex, type SignatureAlgorithm, stringToSign } from '../protocol/app-signature.js';
import { type EdgeEnv, fail } from './envelope.js';

/** X-Date may be this far from the server's clock, either way. */
export const CLOCK_WINDOW_S = 900;

/** Where signatures already used are kept for as long as they could be replayed (Redis, in the service). */
export type SeenSignatures = {
  /** Records `id`; false if it was already recorded and has not expired. */
  firstUse(id: string, ttlMs: number): Promise<boolean>;
};

const HASHES: Record<SignatureAlgorithm, typeof sha1> = { 'hmac-sha1': sha1, 'hmac-sha256': sha256, 'hmac-sha384': sha384, 'hmac-sha512': sha512 };
const ALGORITHMS = HASHES as Record<string, typeof sha1 | undefined>;
/** What is used of a keyed HMAC state. */
type Mac = { clone(): Mac; update(data: Uint8Array): Mac; digest(): Uint8Array };

type Authorization = { id: string; algorithm: string; headers: string[]; signature: string };

export function appAuth(opts: { keys: readonly ApiKey[]; seen: SeenSignatures; now?: () => number }): MiddlewareHandler<EdgeEnv> {
  const byKey = new Map(opts.keys.map((k) => [k.key, k]));
  // Keyed once per key and algorithm; each request clones the keyed state.
  const macs = new Map<string, Mac>();
  const now = opts.now ?? Date.now;
  const macOf = (k: ApiKey, algorithm: string, hash: typeof sha1): Mac => {
    const id = `${algorithm}\u0000${k.key}`;
    let mac = macs.get(id);
    if (!mac) {
      mac = hmac.create(hash, new TextEncoder().encode(k.secret)) as unknown as Mac;
      macs.set(id, mac);
    }
    return mac.clone();
  };

  return async (c, next) => {
    const refuse = (why: string) => fail(c, 'AuthFailure', why, 401);
    const header = c.req.header('authorization');
    if (!header) return refuse('Authorization header missing');
    const auth = parseAuthorization(header);
    if (!auth) {
      return refuse('Authorization header malformed: want hmac id="…", algorithm="…", headers="…", signature="…"');
    }
    const key = byKey.get(auth.id);
    if (!key) return refuse(`unknown ApiAppKey ${JSON.stringify(auth.id.slice(0, 128))}`);
    const hash = ALGORITHMS[auth.algorithm];
    if (!hash) {
      return refuse(`algorithm ${JSON.stringify(auth.algorithm.slice(0, 32))} not supported (${Object.keys(ALGORITHMS).join(', ')})`);
    }
    if (!auth.headers.includes('x-date')) return refuse('the signed headers must include x-date');

    const date = c.req.header('x-date');
    if (!date) return refuse('X-Date header missing');
    const signedAt = Date.parse(date);
    if (!/GMT$/.test(date.trim()) || Number.isNaN(signedAt)) return refuse('X-Date is not an RFC 1123 GMT date');
    const skewS = Math.abs(now() - signedAt) / 1000;
    if (skewS > CLOCK_WINDOW_S) {
      return refuse(`X-Date is ${Math.round(skewS)} s from the server's clock (more than ${CLOCK_WINDOW_S} s)`);
    }

    const contentMd5 = c.req.header('content-md5');
    if (!contentMd5) return refuse('Content-MD5 header missing');
    // Read as text, which the JSON reader after this one takes from the cache as it is (bytes would be
    // wrapped in a Response first). For the UTF-8 that JSON is, the text encodes back to the bytes sent.
    const digest = md5(new TextEncoder().encode(await c.req.text()));
    if (contentMd5 !== base64(new TextEncoder().encode(hex(digest))) && contentMd5 !== base64(digest)) {
      return refuse('Content-MD5 does not match the body');
    }

    const signature = fromBase64(auth.signature);
    const toSign = stringToSign({ method: c.req.method, url: new URL(c.req.url), headers: c.req.raw.headers, signedHeaders: auth.headers });
    const expected = macOf(key, auth.algorithm, hash).update(new TextEncoder().encode(toSign)).digest();
    if (!signature || !sameBytes(signature, expected)) return refuse('signature does not match (check the ApiAppSecret and the string to sign)');

    // Kept until no clock could accept the same X-Date any more.
    const ttlMs = Math.max(1000, signedAt + CLOCK_WINDOW_S * 1000 - now() + 1000);
    let first: boolean;
    try {
      first = await opts.seen.firstUse(`${key.key}:${auth.signature}`, ttlMs);
    } catch {
      return fail(c, 'ServiceUnavailable', 'the store of used signatures cannot be reached; try again', 503);
    }
    if (!first) return refuse('signature already used (a replay): sign every request anew');
    c.set('apiKey', key);
    return next();
  };
}

/** 401 unless the key that signed the request may call this Action; null when it may. */
export function refuseAction(c: Parameters<MiddlewareHandler<EdgeEnv>>[0], action: string): Response | null {
  const key = c.get('apiKey');
  if (!key?.actions || key.actions.includes(action as never)) return null;
  return fail(c, 'AuthFailure', `ApiAppKey ${JSON.stringify(key.key)} may not call ${action} (allowed: ${key.actions.join(', ')})`, 401);
}

export function parseAuthorization(header: string): Authorization | null {
  const m = /^\s*hmac\s+(.*)$/i.exec(header);
  if (!m) return null;
  const fields = new Map<string, string>();
  for (const part of m[1]!.matchAll(/\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)/g)) fields.set(part[1]!.toLowerCase(), part[2]!);
  const id = fields.get('id');
  const algorithm = fields.get('algorithm');
  const headers = fields.get('headers');
  const signature = fields.get('signature');
  if (!id || !algorithm || headers === undefined || !signature) return null;
  return { id, algorithm: algorithm.toLowerCase(), headers: headers.toLowerCase().split(/\s+/).filter(Boolean), signature };
}

/** Compares in constant time (for equal lengths): how much of a signature matched must not show. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
