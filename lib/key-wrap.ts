// Sealing secrets at rest (the HLS EncryptKey a client hands us): AES-256-GCM under a key-wrapping
// key. Task state and jobs only ever hold the sealed form; a recorder opens it just before use.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'sealed.v1.';

export function seal(kek: Buffer, secret: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  const body = Buffer.concat([c.update(secret), c.final()]);
  return PREFIX + [iv, body, c.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

export function open(kek: Buffer, sealed: string): Buffer {
  if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed secret');
  const [iv, body, tag] = sealed
    .slice(PREFIX.length)
    .split('.')
    .map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !body || !tag) throw new Error('a sealed secret is malformed');
  const d = createDecipheriv('aes-256-gcm', kek, iv);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(body), d.final()]);
}

/**
 * The key-wrapping key: derived from a configured secret, or else a random one kept in `file`
 * (mode 600) so that a restarted service can still open what it sealed.
 */
export function loadKek(configured: string | undefined, file: string): Buffer {
  if (configured) return createHash('sha256').update(configured).digest();
  if (existsSync(file)) return readFileSync(file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const kek = randomBytes(32);
  writeFileSync(file, kek, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return kek;
}
