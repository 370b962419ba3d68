// Fetches a finished video: an MP4 into a file, an HLS set (the playlist and every segment it names)
// into a folder. An encrypted set's key stays where the playlist points (AuthUrl): it is the
// client's to serve, not a file of the recording.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { Video } from '../protocol/task.js';

export async function download(video: Video, out: string): Promise<string[]> {
  if (!video.Filename.endsWith('.m3u8')) {
    await mkdir(dirname(out), { recursive: true });
    await fetchTo(video.FileURL, out);
    return [out];
  }
  await mkdir(out, { recursive: true });
  const res = await get(video.FileURL);
  const playlist = await res.text();
  const files = [join(out, basename(new URL(video.FileURL).pathname))];
  await writeFile(files[0]!, playlist);
  // Every line that is not a tag names a segment, beside the playlist or where its URL says.
  const uris = playlist
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const uri of uris) {
    const url = new URL(uri, video.FileURL);
    const path = join(out, basename(url.pathname));
    await fetchTo(url.href, path);
    files.push(path);
  }
  return files;
}

async function get(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`GET ${url} answered HTTP ${res.status}`);
  return res;
}

async function fetchTo(url: string, path: string): Promise<void> {
  const res = await get(url);
  await pipeline(Readable.fromWeb(res.body as ReadableStream), createWriteStream(path));
}
