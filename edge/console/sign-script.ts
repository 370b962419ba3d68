// The console's signing, as a browser module (/console/sign.js): application authentication exactly
// as API.md "Authentication" and client/sign.ts do it. WebCrypto has the HMAC but no MD5, and the edge
// wants Content-MD5, so MD5 (RFC 1321) is here in a few lines. Plain JS in a string: served as it is,
// no build step. No `${` or backquote inside (this is a template literal).
export const SIGN_SCRIPT = String.raw`// webrecord console: signs API calls (Tencent API Gateway application authentication).
const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0;

/** MD5 of bytes (a Uint8Array), 16 bytes. */
export function md5(bytes) {
  const n = bytes.length;
  const blocks = Math.floor((n + 8) / 64) + 1;
  const m = new Int32Array(blocks * 16);
  for (let i = 0; i < n; i++) m[i >> 2] |= bytes[i] << ((i % 4) * 8);
  m[n >> 2] |= 0x80 << ((n % 4) * 8);
  m[blocks * 16 - 2] = n * 8;
  m[blocks * 16 - 1] = Math.floor(n / 536870912);
  let a0 = 0x67452301, b0 = 0xefcdab89 | 0, c0 = 0x98badcfe | 0, d0 = 0x10325476;
  for (let at = 0; at < m.length; at += 16) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f, g;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const s = S[(i >> 4) * 4 + (i % 4)];
      const x = (a + f + K[i] + m[at + g]) | 0;
      a = d; d = c; c = b;
      b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
  }
  const out = new Uint8Array(16);
  [a0, b0, c0, d0].forEach((w, j) => { for (let k = 0; k < 4; k++) out[j * 4 + k] = (w >>> (8 * k)) & 0xff; });
  return out;
}

const hex = (bytes) => Array.prototype.map.call(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const base64 = (bytes) => btoa(Array.prototype.map.call(bytes, (b) => String.fromCharCode(b)).join(''));

/**
 * The headers of a signed POST of body (JSON text) to path. Source carries a random nonce and is
 * signed too, so two identical calls in one second still differ (the service refuses a replay).
 */
export async function signedHeaders(creds, path, body) {
  if (!globalThis.crypto || !crypto.subtle) throw new Error('signing needs a secure context: open the console over HTTPS, or on localhost');
  const enc = new TextEncoder();
  const headers = {
    'X-Date': new Date().toUTCString(),
    Source: 'webrecord-console ' + hex(crypto.getRandomValues(new Uint8Array(16))),
    Accept: 'application/json',
    'Content-Type': 'application/json',
    // The original client's form: base64 of the lowercase hex digest.
    'Content-MD5': btoa(hex(md5(enc.encode(body)))),
  };
  const toSign = ['x-date: ' + headers['X-Date'], 'source: ' + headers.Source, 'POST', headers.Accept, headers['Content-Type'], headers['Content-MD5'], path].join('\n');
  const key = await crypto.subtle.importKey('raw', enc.encode(creds.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(toSign)));
  headers.Authorization = 'hmac id="' + creds.key + '", algorithm="hmac-sha256", headers="x-date source", signature="' + base64(mac) + '"';
  return headers;
}
`;
