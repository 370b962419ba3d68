// Publishes an HLS set that ffmpeg writes into a local folder: every segment the playlist lists is
// uploaded once (ffmpeg's temp_file flag makes a listed segment complete), then the playlist itself,
// rewritten as it grows, so the set can be watched from the store while it records.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { besideKey, CONTENT_TYPES, type ObjectStore } from './target.js';

export class SegmentUpload {
  private readonly uploaded = new Set<string>();
  private lastPlaylist = '';
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ObjectStore,
    /** The playlist's key; the segments go beside it. */
    private readonly mainKey: string,
    private readonly dir: string,
    private readonly playlist: string,
    private readonly segmentsOf: (text: string) => { uri: string }[],
  ) {}

  get segmentsSent(): number {
    return this.uploaded.size;
  }

  /** Everything goes up again (the set is being made again). */
  reset(): void {
    this.uploaded.clear();
    this.lastPlaylist = '';
  }

  /** Uploads what the live playlist lists that is not up yet, then the playlist. */
  step(): Promise<void> {
    return this.serial(async () => {
      const text = await readFile(join(this.dir, this.playlist), 'utf8').catch(() => null);
      if (text) await this.send(text);
    });
  }

  /** The finished playlist (its text as it ends): its segments, then itself. */
  finish(text: string): Promise<void> {
    return this.serial(() => this.send(text));
  }

  private async send(text: string): Promise<void> {
    for (const { uri } of this.segmentsOf(text)) {
      if (this.uploaded.has(uri) || uri.includes('/')) continue;
      await this.store.put(besideKey(this.mainKey, uri), { path: join(this.dir, uri) }, CONTENT_TYPES.ts);
      this.uploaded.add(uri);
    }
    if (text === this.lastPlaylist) return;
    await this.store.put(this.mainKey, Buffer.from(text), CONTENT_TYPES.m3u8);
    this.lastPlaylist = text;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(fn);
    this.busy = run.catch(() => undefined);
    return run;
  }
}
