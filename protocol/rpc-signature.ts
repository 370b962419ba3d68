// The internal RPC between hosts (and, later, from edge workers) is authenticated by an HMAC-SHA256
// under the shared CLUSTER_SECRET over the method, the path, the body's SHA-256, the time, a nonce
// and the host it is meant for. A receiver refuses a request that is unsigned, signed with another
// key, older or newer than MAX_SKEW_MS, meant for another host, or a replay of a nonce it has seen.
// Web-standard (WebCrypto) so that it runs on edge runtimes as on Node.
export const RPC_HEADERS = {
  time: 'x-webrecord-rpc-time',
  nonce: 'x-webrecord-rpc-nonce',
  to: 'x-webrecord-rpc-to',
  signature: 'x-webrecord-rpc-signature',
} as const;

/** How far a request's time may be from the receiver's clock. */
export const MAX_SKEW_MS = 30_000;

const enc = new TextEncoder();
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const keyCache = new Map<string, Promise<HmacKey>>();

function hmacKey(secret: string): Promise<HmacKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keyCache.set(secret, key);
  }
  return key;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

export type SignedParts = { method: string; path: string; body: string; time: string; nonce: string; to: string };

async function stringToSign(p: SignedParts): Promise<string> {
  const bodyHash = hex(await crypto.subtle.digest('SHA-256', enc.encode(p.body)));
  return [p.method.toUpperCase(), p.path, bodyHash, p.time, p.nonce, p.to].join('\n');
}

export async function sign(secret: string, p: SignedParts): Promise<string> {
  return hex(await crypto.subtle.sign('HMAC', await hmacKey(secret), enc.encode(await stringToSign(p))));
}

/** The headers that authenticate one request to host `to`. */
export async function rpcHeaders(secret: string, method: string, path: string, body: string, to: string, now = Date.now()): Promise<Record<string, string>> {
  const time = String(now);
  const nonce = hex(crypto.getRandomValues(new Uint8Array(16)).buffer);
  const signature = await sign(secret, { method, path, body, time, nonce, to });
  return { [RPC_HEADERS.time]: time, [RPC_HEADERS.nonce]: nonce, [RPC_HEADERS.to]: to, [RPC_HEADERS.signature]: signature };
}

/**
 * Remembers the nonces seen within the skew window, so a captured request cannot be sent again.
 * Nonces arrive roughly in time order, so the expired ones are forgotten from the front of the map:
 * each costs one step once, however many calls a second go through.
 */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  /** True the first time a nonce is offered (within its window); false for a replay. */
  offer(nonce: string, expiresAt: number, now: number): boolean {
    for (const [n, until] of this.seen) {
      if (until >= now) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, expiresAt);
    return true;
  }
}

/** Why a request is refused, or null when it is authentic, fresh, ours and new. */
export async function verify(
  secret: string,
  req: { method: string; path: string; body: string; header(name: string): string | undefined },
  /** `nonces`: this host's memory for calls to it alone; the region's store for calls to any of its hosts. */
  o: { self: string; nonces: { offer(nonce: string, expiresAt: number, now: number): boolean | Promise<boolean> }; now?: number },
): Promise<string | null> {
  const now = o.now ?? Date.now();
  const time = req.header(RPC_HEADERS.time);
  const nonce = req.header(RPC_HEADERS.nonce);
  const to = req.header(RPC_HEADERS.to);
  const signature = req.header(RPC_HEADERS.signature);
  if (!time || !nonce || !to || !signature) return 'unsigned';
  if (!/^\d{1,16}$/.test(time) || Math.abs(now - Number(time)) > MAX_SKEW_MS) return 'stale';
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'bad signature';
  const ok = await crypto.subtle.verify('HMAC', await hmacKey(secret), hexBytes(signature), enc.encode(await stringToSign({ method: req.method, path: req.path, body: req.body, time, nonce, to })));
  if (!ok) return 'bad signature';
  if (to !== o.self) return `meant for host ${to}`;
  if (!(await o.nonces.offer(nonce, Number(time) + MAX_SKEW_MS, now))) return 'replayed';
  return null;
}

function hexBytes(s: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A short public fingerprint of a secret: hosts compare it to find a peer configured differently. */
export async function secretFingerprint(secret: string): Promise<string> {
  return (await sign(secret, { method: 'FINGERPRINT', path: '/', body: '', time: '0', nonce: '', to: '' })).slice(0, 16);
}
