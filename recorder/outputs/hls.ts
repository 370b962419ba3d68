// HLS output: MPEG-TS segments of HLS_SEGMENT_SECONDS and an EVENT playlist, written while
// recording into the local store's folder (published as written) or a scratch folder whose segments
// and playlist go up to a remote store as they appear, so the set can be watched live; turned into a
// VOD playlist at Stop. With a key, every segment is AES-128 encrypted; ffmpeg reads the key from a pipe
// and the playlist points players at AuthUrl for it. The key is never written anywhere.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Video } from '../../protocol/task.js';
import type { FfmpegArgs } from '../ffmpeg/args.js';
import { SegmentUpload } from '../storage/segment-upload.js';
import type { Destination } from '../storage/target.js';
import { type Output, outputName, STREAMS, UploadFailed } from './output.js';
import { tsVideoSpan } from './ts-duration.js';

export type HlsKey = { key: Buffer; authUrl: string };

export class HlsOutput implements Output {
  readonly secret?: Buffer;
  readonly playlist: string;
  private readonly base: string;
  private readonly keyInfoPath: string | null;
  /** Sizes of segments already listed: they never change, so each is measured once. */
  private readonly sizes = new Map<string, number>();
  private readonly upload: SegmentUpload | null;

  readonly where: string;

  private constructor(
    private readonly o: { dir: string; segmentSeconds: number; destination: Destination },
    playlist: string,
    keyInfoPath: string | null,
    key: Buffer | undefined,
  ) {
    this.playlist = playlist;
    this.base = playlist.replace(/\.m3u8$/, '');
    this.where = o.dir;
    this.keyInfoPath = keyInfoPath;
    if (key) this.secret = key;
    this.upload = o.destination.localDir ? null : new SegmentUpload(o.destination, o.dir, playlist, segmentsOf);
  }

  /** The playlist's key, asked each time: a destination opened anew has another. */
  private get mainKey(): string {
    return this.o.destination.keyFor(this.playlist);
  }

  static async create(o: { taskId: string; attempt: number; targetName?: string; segmentSeconds: number; tmpDir: string; destination: Destination; key?: HlsKey }): Promise<HlsOutput> {
    // The playlist's name must be known while recording (it is watched live): TargetName, or index.m3u8.
    const playlist = outputName(o.targetName, 'index', 'm3u8');
    const dir = o.destination.localDir ?? join(o.tmpDir, `${o.taskId}-${o.attempt}-hls`);
    await mkdir(dir, { recursive: true });
    let keyInfoPath: string | null = null;
    if (o.key) {
      // The key info file names the key's URI, where ffmpeg reads the key (fd 3), and a random IV.
      keyInfoPath = join(o.tmpDir, `${o.taskId}-${o.attempt}.keyinfo`);
      await writeFile(keyInfoPath, `${o.key.authUrl}\npipe:3\n${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
    }
    return new HlsOutput({ dir, segmentSeconds: o.segmentSeconds, destination: o.destination }, playlist, keyInfoPath, o.key?.key);
  }

  addTo(args: FfmpegArgs): FfmpegArgs {
    return args.output(join(this.o.dir, this.playlist), {
      format: 'hls',
      ...STREAMS,
      hls: {
        segmentSeconds: this.o.segmentSeconds,
        playlistType: 'event',
        segmentFilename: join(this.o.dir, `${this.base}_%05d.ts`),
        // temp_file: a segment appears under its name only once complete.
        flags: ['independent_segments', 'temp_file'],
        ...(this.keyInfoPath ? { keyInfoFile: this.keyInfoPath } : {}),
      },
    });
  }

  async live(): Promise<Video | null> {
    // Remote: what is up is what can be watched.
    if (this.upload && !this.upload.segmentsSent) return null;
    const text = await readFile(join(this.o.dir, this.playlist), 'utf8').catch(() => null);
    if (!text || !segmentsOf(text).length) return null;
    return this.describe(text, this.o.destination.store.urlOf(this.mainKey));
  }

  async publishSoFar(): Promise<void> {
    await this.upload?.step();
  }

  async finalize(): Promise<Video> {
    const path = join(this.o.dir, this.playlist);
    let text = await readFile(path, 'utf8');
    // The EVENT playlist becomes a complete VOD playlist.
    text = text.replace('#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-PLAYLIST-TYPE:VOD');
    if (!text.includes('#EXT-X-ENDLIST')) text = `${text.trimEnd()}\n#EXT-X-ENDLIST\n`;
    text = await this.measureLastSegment(text);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
    if (this.keyInfoPath) await unlink(this.keyInfoPath).catch(() => undefined);
    const { destination } = this.o;
    let published;
    try {
      await this.upload?.finish(text);
      published = await destination.complete(this.mainKey);
    } catch (err) {
      throw new UploadFailed(destination.store.name, err, this.o.dir);
    }
    const video = await this.describe(text, published.url);
    return published.fileId ? { ...video, FileId: published.fileId } : video;
  }

  /**
   * ffmpeg 5.1 writes a short EXTINF for the last segment when the input ends; the others are right.
   * Measure that one segment (decrypted in memory when encrypted) and correct it. A segment that
   * cannot be read or measured (missing, damaged, not decryptable) keeps ffmpeg's EXTINF.
   */
  private async measureLastSegment(text: string): Promise<string> {
    const last = segmentsOf(text).at(-1);
    if (!last) return text;
    const bytes = await readSegment(this.o.dir, last.uri);
    const ts = bytes && (this.secret ? decryptSegment(bytes, this.secret, text) : bytes);
    const seconds = ts ? tsVideoSpan(ts) : null;
    return seconds ? withLastDuration(text, seconds) : text;
  }

  async dropLocalCopy(): Promise<void> {
    if (this.upload) await rm(this.o.dir, { recursive: true, force: true });
  }

  async discard(): Promise<void> {
    this.sizes.clear();
    this.upload?.reset(); // made again under the same names: each goes up again
    const files = await readdir(this.o.dir).catch(() => [] as string[]);
    await Promise.all(files.filter((f) => f === this.playlist || f.startsWith(`${this.base}_`)).map((f) => rm(join(this.o.dir, f), { force: true })));
  }

  /** FileSize counts the playlist and its segments; FileDuration sums the segments. */
  private async describe(text: string, url: string): Promise<Video> {
    const segments = segmentsOf(text);
    await Promise.all(
      segments
        .filter((s) => !this.sizes.has(s.uri))
        .map(async (s) =>
          this.sizes.set(
            s.uri,
            await stat(join(this.o.dir, s.uri)).then(
              (st) => st.size,
              () => 0,
            ),
          ),
        ),
    );
    return {
      Filename: this.playlist,
      FileSize: Buffer.byteLength(text) + segments.reduce((a, s) => a + (this.sizes.get(s.uri) ?? 0), 0),
      FileDuration: Math.round(segments.reduce((a, s) => a + s.duration, 0) * 1000) / 1000,
      FileURL: url,
    };
  }
}

/** The playlist's segments; an EXTINF that is no number counts as 0 s. */
export function segmentsOf(playlist: string): { uri: string; duration: number }[] {
  return segmentLines(playlist.split('\n')).map(({ uri, duration }) => ({ uri, duration }));
}

/** Each segment with the index of its EXTINF line. */
function segmentLines(lines: string[]): { uri: string; duration: number; line: number }[] {
  const out: { uri: string; duration: number; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXTINF:([\d.]+)/.exec(lines[i]!);
    const uri = lines[i + 1]?.trim();
    const duration = Number(m?.[1]);
    if (m && uri && !uri.startsWith('#')) out.push({ uri, duration: Number.isFinite(duration) ? duration : 0, line: i });
  }
  return out;
}

/** The playlist with the last segment's EXTINF duration replaced (its title, after the comma, kept). */
function withLastDuration(text: string, seconds: number): string {
  const lines = text.split('\n');
  const last = segmentLines(lines).at(-1);
  if (!last) return text;
  const extinf = lines[last.line]!;
  const comma = extinf.indexOf(',');
  lines[last.line] = `#EXTINF:${seconds.toFixed(6)}${comma < 0 ? ',' : extinf.slice(comma)}`;
  return lines.join('\n');
}

// A segment is a few seconds of video: anything far larger is not one ffmpeg wrote.
const SEGMENT_MAX = 256 << 20;

/** The bytes of a segment in `dir` (a plain file name only), or null when it cannot be read. */
async function readSegment(dir: string, uri: string): Promise<Buffer | null> {
  if (uri.includes('/') || uri.includes('\\') || uri === '..') return null;
  const path = join(dir, uri);
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (size < 0 || size > SEGMENT_MAX) return null;
  return readFile(path).catch(() => null);
}

/** An AES-128 segment decrypted with the playlist's IV, or null when it does not decrypt. */
function decryptSegment(bytes: Buffer, key: Buffer, text: string): Buffer | null {
  const iv = /#EXT-X-KEY:[^\n]*IV=0x([0-9a-fA-F]{32})/.exec(text)?.[1];
  if (!iv) return null;
  try {
    const d = createDecipheriv('aes-128-cbc', key, Buffer.from(iv, 'hex'));
    return Buffer.concat([d.update(bytes), d.final()]);
  } catch {
    return null; // cut short or damaged: its padding does not check
  }
}
