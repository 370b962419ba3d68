// Where the capture extension lives and its id (derived from the manifest's public key, as Chromium
// does: the first 128 bits of SHA-256 of the key, written with the letters a to p).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const EXTENSION_DIR = fileURLToPath(new URL('./extension/', import.meta.url)).replace(/\/$/, '');

export function extensionId(dir = EXTENSION_DIR): string {
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { key: string };
  const hex = createHash('sha256').update(Buffer.from(manifest.key, 'base64')).digest('hex').slice(0, 32);
  return [...hex].map((h) => String.fromCharCode(97 + parseInt(h, 16))).join('');
}
