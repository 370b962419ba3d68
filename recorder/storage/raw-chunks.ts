// StorageType "cos": the intermediate recording goes up to COS as it is written, so that another
// recorder can rebuild it from the bucket after this one dies. Every second the bytes added to the
// attempt's local file since the last upload become one object, `<prefix><attempt>/<offset>.part`,
// named by where those bytes start in the file. The local file is the source: nothing is held in
// memory, and bytes whose upload failed simply go with the next one (under the same offset, so a
// put that timed out but landed is overwritten by a longer one, never left beside it).
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/logger.js';
import type { ObjectStore } from './target.js';

export type RawStore = Pick<ObjectStore, 'put' | 'remove' | 'name'> & {
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<Buffer>;
};

/** A task's raw chunks: the store and the key prefix (`raw/<TaskID>/`). */
export type RawChunks = { store: RawStore; prefix: string };

const EVERY_MS = 1000;
/** One object at most: a backlog after an outage goes up in pieces. */
const MAX_OBJECT = 8 * 1048576;
const KEY = /^(\d+)\/(\d{15})\.part$/;

const keyOf = (raw: RawChunks, attempt: number, offset: number) => `${raw.prefix}${attempt}/${String(offset).padStart(15, '0')}.part`;

export class RawChunkUpload {
  private sent = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private failing = false;

  constructor(
    private readonly raw: RawChunks,
    private readonly attempt: number,
    private readonly path: string,
    /** How many bytes the local file holds now (what was written to it, not what the disk says). */
    private readonly written: () => number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), EVERY_MS);
  }

  /** Sends what is left and stops; never throws (what could not go up is still in the local file). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.flush().catch((err) => this.log.warn({ err: String(err) }, 'the last raw chunk could not go up to COS'));
  }

  /** Bytes of the local file now in the bucket. */
  get uploaded(): number {
    return this.sent;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.flush()
      .then(() => {
        if (this.failing) this.log.info('raw chunks go up to COS again');
        this.failing = false;
      })
      .catch((err) => {
        if (!this.failing) this.log.warn({ err: String(err) }, 'a raw chunk could not go up to COS; trying again with the next');
        this.failing = true;
      })
      .finally(() => {
        this.running = null;
      });
  }

  private async flush(): Promise<void> {
    let end = this.written();
    if (end <= this.sent) return;
    const fh = await open(this.path, 'r');
    try {
      while (this.sent < end) {
        const length = Math.min(end - this.sent, MAX_OBJECT);
        const bytes = Buffer.alloc(length);
        const { bytesRead } = await fh.read(bytes, 0, length, this.sent);
        if (!bytesRead) return;
        await this.raw.store.put(keyOf(this.raw, this.attempt, this.sent), bytes.subarray(0, bytesRead), 'application/octet-stream');
        this.sent += bytesRead;
        end = this.written();
      }
    } finally {
      await fh.close();
    }
  }
}

/**
 * Rebuilds every attempt's file from the bucket into `dir` (`<attempt>.mkv`), each up to its first
 * missing piece. Returns the files by attempt number; `gaps` names the attempts cut short.
 */
export async function rebuildRaw(raw: RawChunks, dir: string): Promise<{ files: Map<number, string>; gaps: number[] }> {
  const byAttempt = new Map<number, { offset: number; key: string }[]>();
  for (const key of await raw.store.list(raw.prefix)) {
    const m = KEY.exec(key.slice(raw.prefix.length));
    if (!m) continue;
    const attempt = Number(m[1]);
    byAttempt.set(attempt, [...(byAttempt.get(attempt) ?? []), { offset: Number(m[2]), key }]);
  }
  await mkdir(dir, { recursive: true });
  const files = new Map<number, string>();
  const gaps: number[] = [];
  for (const [attempt, pieces] of [...byAttempt].sort((a, b) => a[0] - b[0])) {
    pieces.sort((a, b) => a.offset - b.offset);
    const path = join(dir, `${attempt}.mkv`);
    const fh = await open(path, 'w');
    let at = 0;
    try {
      for (const p of pieces) {
        if (p.offset > at) {
          gaps.push(attempt);
          break;
        }
        const bytes = await raw.store.get(p.key);
        if (p.offset + bytes.length <= at) continue;
        const fresh = bytes.subarray(at - p.offset);
        await fh.write(fresh, 0, fresh.length, at);
        at += fresh.length;
      }
    } finally {
      await fh.close();
    }
    if (at > 0) files.set(attempt, path);
    else await rm(path, { force: true });
  }
  return { files, gaps };
}

/** Removes every raw chunk of the task. */
export async function removeRaw(raw: RawChunks): Promise<void> {
  const keys = await raw.store.list(raw.prefix);
  if (keys.length) await raw.store.remove(keys);
}
