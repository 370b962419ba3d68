// HLS output: MPEG-TS segments of HLS_SEGMENT_SECONDS and an EVENT playlist, written into the
// storage target's live directory while recording (so it can be watched live), turned into a VOD
// playlist at Stop. With a key, every segment is AES-128 encrypted; ffmpeg reads the key from a pipe
// and the playlist points players at AuthUrl for it. The key is never written anywhere.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Video } from '../../protocol/task.js';
import type { FfmpegArgs } from '../ffmpeg/args.js';
import type { StorageTarget } from '../storage/target.js';
import { type Output, outputName, STREAMS } from './output.js';
import { tsVideoSpan } from './ts-duration.js';

export type HlsKey = { key: Buffer; authUrl: string };

export class HlsOutput implements Output {
  readonly secret?: Buffer;
  readonly playlist: string;
  private readonly base: string;
  private readonly keyInfoPath: string | null;
  /** Sizes of segments already listed: they never change, so each is measured once. */
  private readonly sizes = new Map<string, number>();

  private constructor(
    private readonly o: { taskId: string; dir: string; segmentSeconds: number; storage: StorageTarget },
    playlist: string,
    keyInfoPath: string | null,
    key: Buffer | undefined,
  ) {
    this.playlist = playlist;
    this.base = playlist.replace(/\.m3u8$/, '');
    this.keyInfoPath = keyInfoPath;
    if (key) this.secret = key;
  }

  static async create(o: {
    taskId: string;
    attempt: number;
    targetName?: string;
    segmentSeconds: number;
    tmpDir: string;
    storage: StorageTarget;
    key?: HlsKey;
  }): Promise<HlsOutput> {
    // The playlist's name must be known while recording (it is watched live): TargetName, or index.m3u8.
    const playlist = outputName(o.targetName, 'index', 'm3u8');
    const dir = await o.storage.liveDir(o.taskId);
    let keyInfoPath: string | null = null;
    if (o.key) {
      // The key info file names the key's URI, where ffmpeg reads the key (fd 3), and a random IV.
      keyInfoPath = join(o.tmpDir, `${o.taskId}-${o.attempt}.keyinfo`);
      await writeFile(keyInfoPath, `${o.key.authUrl}\npipe:3\n${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });
    }
    const { taskId, segmentSeconds, storage } = o;
    return new HlsOutput({ taskId, dir, segmentSeconds, storage }, playlist, keyInfoPath, o.key?.key);
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
    const text = await readFile(join(this.o.dir, this.playlist), 'utf8').catch(() => null);
    if (!text || !segmentsOf(text).length) return null;
    return this.describe(text);
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
    return this.describe(text);
  }

  /**
   * ffmpeg 5.1 writes a short EXTINF for the last segment when the input ends; the others are right.
   * Measure that one segment (decrypted in memory when encrypted) and correct it.
   */
  private async measureLastSegment(text: string): Promise<string> {
    const last = segmentsOf(text).at(-1);
    if (!last) return text;
    let bytes = await readFile(join(this.o.dir, last.uri));
    if (this.secret) {
      const iv = /#EXT-X-KEY:[^\n]*IV=0x([0-9a-fA-F]{32})/.exec(text)?.[1];
      if (!iv) return text;
      const d = createDecipheriv('aes-128-cbc', this.secret, Buffer.from(iv, 'hex'));
      bytes = Buffer.concat([d.update(bytes), d.final()]);
    }
    const seconds = tsVideoSpan(bytes);
    if (!seconds) return text;
    const at = text.lastIndexOf('#EXTINF:');
    const end = text.indexOf(',', at);
    return `${text.slice(0, at)}#EXTINF:${seconds.toFixed(6)}${text.slice(end)}`;
  }

  async discard(): Promise<void> {
    this.sizes.clear();
    const files = await readdir(this.o.dir).catch(() => [] as string[]);
    await Promise.all(
      files.filter((f) => f === this.playlist || f.startsWith(`${this.base}_`)).map((f) => rm(join(this.o.dir, f), { force: true })),
    );
  }

  /** FileSize counts the playlist and its segments; FileDuration sums the segments. */
  private async describe(text: string): Promise<Video> {
    const segments = segmentsOf(text);
    await Promise.all(
      segments
        .filter((s) => !this.sizes.has(s.uri))
        .map(async (s) => this.sizes.set(s.uri, await stat(join(this.o.dir, s.uri)).then((st) => st.size, () => 0))),
    );
    return {
      Filename: this.playlist,
      FileSize: Buffer.byteLength(text) + segments.reduce((a, s) => a + (this.sizes.get(s.uri) ?? 0), 0),
      FileDuration: Math.round(segments.reduce((a, s) => a + s.duration, 0) * 1000) / 1000,
      FileURL: this.o.storage.urlOf(this.o.taskId, this.playlist),
    };
  }
}

export function segmentsOf(playlist: string): { uri: string; duration: number }[] {
  const out: { uri: string; duration: number }[] = [];
  const lines = playlist.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^#EXTINF:([\d.]+)/.exec(lines[i]!);
    const uri = lines[i + 1]?.trim();
    if (m && uri && !uri.startsWith('#')) out.push({ uri, duration: Number(m[1]) });
  }
  return out;
}
