// Signs a request the way the original product's client does (Tencent API Gateway application
// authentication, API.md "Authentication"). Web-standard: runs in Node, browsers and edge workers.
import { md5 } from '@noble/hashes/legacy.js';
import { base64, hex, SIGNATURE_ALGORITHMS, type SignatureAlgorithm, stringToSign } from '../protocol/app-signature.js';

export type Algorithm = SignatureAlgorithm;

export type Credentials = { key: string; secret: string; algorithm?: Algorithm };

/**
 * The headers for a POST of `body` (JSON) to `path`. `Source` is signed too and carries a random
 * nonce, so two identical requests in the same second still differ (the service refuses a replayed
 * signature).
 */
export async function signedHeaders(creds: Credentials, path: string, body: string, date: Date = new Date()): Promise<Record<string, string>> {
  const algorithm = creds.algorithm ?? 'hmac-sha1';
  const headers: Record<string, string> = {
    'X-Date': date.toUTCString(),
    Source: `webrecord-client ${crypto.randomUUID()}`,
    Accept: 'application/json',
    'Content-Type': 'application/json',
    // The original client's form: base64 of the lowercase hex digest.
    'Content-MD5': btoa(hex(md5(new TextEncoder().encode(body)))),
  };
  const toSign = stringToSign({ method: 'POST', url: new URL(path, 'http://x'), headers: new Headers(headers), signedHeaders: ['x-date', 'source'] });
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(creds.secret), { name: 'HMAC', hash: SIGNATURE_ALGORITHMS[algorithm] }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(toSign)));
  headers.Authorization = `hmac id="${creds.key}", algorithm="${algorithm}", headers="x-date source", signature="${base64(mac)}"`;
  return headers;
}

/**
 * Checks a callback's `X-WebRecord-Signature` (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">) against
 * the service's CALLBACK_SECRET; a signature older than `toleranceS` is refused (a replay).
 */
export async function verifyCallback(secret: string, signatureHeader: string | null | undefined, body: string, opts: { toleranceS?: number; now?: number } = {}): Promise<boolean> {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signatureHeader ?? '');
  if (!m) return false;
  const t = Number(m[1]);
  const now = (opts.now ?? Date.now()) / 1000;
  if (Math.abs(now - t) > (opts.toleranceS ?? 300)) return false;
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const mac = Uint8Array.from(m[2]!.match(/../g)!, (h) => parseInt(h, 16));
  return crypto.subtle.verify('HMAC', key, mac, new TextEncoder().encode(`${t}.${body}`));
}
