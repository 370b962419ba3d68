// The task's intermediate Matroska file: every chunk appended in order, flushed to disk at least
// once a second, so a recorder that dies loses at most the last second. A write that fails (a full
// disk) never throws at the capture: it is told once through onFailure, and later chunks are dropped.
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ChunkSink } from './chunk-sink.js';

const SYNC_EVERY_MS = 1000;

export class IntermediateFile implements ChunkSink {
  private tail: Promise<void> = Promise.resolve();
  private lastSync = 0;
  bytes = 0;
  chunks = 0;
  /** The first failed write or sync, if any. */
  failure: Error | null = null;
  onFailure: (err: Error) => void = () => undefined;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string): Promise<IntermediateFile> {
    await mkdir(dirname(path), { recursive: true });
    return new IntermediateFile(path, await open(path, 'a'));
  }

  write(chunk: Buffer): Promise<void> {
    this.tail = this.tail.then(async () => {
      if (this.failure) return;
      try {
        await this.fh.write(chunk);
        this.bytes += chunk.length;
        this.chunks += 1;
        if (Date.now() - this.lastSync >= SYNC_EVERY_MS) {
          await this.fh.datasync();
          this.lastSync = Date.now();
        }
      } catch (err) {
        this.failure = err as Error;
        this.onFailure(this.failure);
      }
    });
    return this.tail;
  }

  async close(): Promise<void> {
    await this.tail.catch(() => undefined);
    await this.fh.datasync().catch(() => undefined);
    await this.fh.close();
  }
}
