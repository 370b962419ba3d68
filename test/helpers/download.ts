// Fetches what the service published: one file, or an HLS playlist with its segments.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function download(url: string, to: string): Promise<Buffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  writeFileSync(to, bytes);
  return bytes;
}

/** Downloads a playlist and its segments into `dir`; returns the playlist's text and the total bytes. */
export async function downloadHls(url: string, dir: string): Promise<{ playlist: string; path: string; bytes: number; segments: string[] }> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, url.split('/').pop()!);
  const text = (await download(url, path)).toString('utf8');
  const segments = text.split('\n').filter((l) => l && !l.startsWith('#'));
  let bytes = Buffer.byteLength(text);
  for (const s of segments) bytes += (await download(new URL(s, url).toString(), join(dir, s))).length;
  return { playlist: text, path, bytes, segments };
}
