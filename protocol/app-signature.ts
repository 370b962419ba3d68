// The rules of application authentication (API.md "Authentication") that both sides share: which
// algorithms, what the signed path is, and the string to sign. The edge verifies with them, the client
// signs with them; the tests check both against an implementation of their own.
export const SIGNATURE_ALGORITHMS = {
  'hmac-sha1': 'SHA-1',
  'hmac-sha256': 'SHA-256',
  'hmac-sha384': 'SHA-384',
  'hmac-sha512': 'SHA-512',
} as const;
export type SignatureAlgorithm = keyof typeof SIGNATURE_ALGORITHMS;

/** The stage segment of the original's gateway URLs (`/release/record`) is not part of the signed path. */
export function signedPath(url: URL): string {
  const pairs: [string, string][] = [];
  url.searchParams.forEach((v, k) => pairs.push([k, v]));
  const query = pairs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
  return url.pathname.replace(/^\/(?:release|test|prepub)(?=\/)/, '') + (query ? `?${query}` : '');
}

/**
 * One `name: value` line per signed header in the order listed, then the method, Accept,
 * Content-Type, Content-MD5 and the signed path; joined by `\n`, no trailing newline.
 */
export function stringToSign(o: { method: string; url: URL; headers: Headers; signedHeaders: readonly string[] }): string {
  const h = (name: string) => o.headers.get(name) ?? '';
  return [...o.signedHeaders.map((name) => `${name}: ${h(name)}`), o.method, h('accept'), h('content-type'), h('content-md5'), signedPath(o.url)].join('\n');
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}
