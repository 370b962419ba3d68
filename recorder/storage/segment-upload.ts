// Publishes an HLS set that ffmpeg writes into a local folder: every segment the playlist lists is
// uploaded once (ffmpeg's temp_file flag makes a listed segment complete), then the playlist itself,
// rewritten as it grows, so the set can be watched from the store while it records. A destination
// opened anew (its upload rights ran out) gets the whole set again.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { besideKey, CONTENT_TYPES, type UploadPlace } from './target.js';

export class SegmentUpload {
  private readonly uploaded = new Set<string>();
  private lastPlaylist = '';
  private busy: Promise<void> = Promise.resolve();

  constructor(
    /** The playlist goes under `keyFor(playlist)`; the segments beside it. */
    private readonly place: UploadPlace,
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
      await this.renewIfDue();
      const text = await readFile(join(this.dir, this.playlist), 'utf8').catch(() => null);
      if (text) await this.send(text);
    });
  }

  /** The finished playlist (its text as it ends): its segments, then itself. */
  finish(text: string): Promise<void> {
    return this.serial(async () => {
      await this.renewIfDue();
      await this.send(text);
    });
  }

  private async renewIfDue(): Promise<void> {
    if (await this.place.renew?.()) this.reset();
  }

  private async send(text: string): Promise<void> {
    const { store } = this.place;
    const mainKey = this.place.keyFor(this.playlist);
    for (const { uri } of this.segmentsOf(text)) {
      if (this.uploaded.has(uri) || uri.includes('/')) continue;
      await store.put(besideKey(mainKey, uri), { path: join(this.dir, uri) }, CONTENT_TYPES.ts);
      this.uploaded.add(uri);
    }
    if (text === this.lastPlaylist) return;
    await store.put(mainKey, Buffer.from(text), CONTENT_TYPES.m3u8);
    this.lastPlaylist = text;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(fn);
    this.busy = run.catch(() => undefined);
    return run;
  }
}
