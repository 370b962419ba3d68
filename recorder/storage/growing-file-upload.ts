// Uploads a file while ffmpeg is still writing it (a fragmented MP4 only ever grows: its fragments
// and, at the end, its index are appended), as the parts of one multipart upload. At Stop only what
// came since the last part is left to send. A destination opened anew (its upload rights ran out)
// gets the file again from its first byte.
import { open, stat } from 'node:fs/promises';
import type { MultipartUpload, UploadPlace } from './target.js';

/** The first parts' size (COS's least); it doubles every PARTS_PER_SIZE parts, so 10,000 parts hold 60 GB. */
export const FIRST_PART_BYTES = 1 << 20;
const PARTS_PER_SIZE = 2000;

export class GrowingFileUpload {
  private upload: Promise<MultipartUpload> | null = null;
  private sent = 0;
  private nextPart = 1;
  private busy: Promise<void> = Promise.resolve();
  /** Parts sent so far (the tests and the log read it). */
  parts = 0;

  constructor(
    private readonly place: UploadPlace,
    /** The file's name at the destination (`keyFor` makes it a key). */
    private readonly name: string,
    private readonly path: string,
    private readonly contentType: string,
  ) {}

  /** Sends the whole parts the file holds beyond what was sent. Never two at once. */
  step(): Promise<void> {
    return this.serial(async () => {
      await this.renewIfDue();
      await this.sendParts(false);
    });
  }

  /** The file is complete: sends the rest and completes the upload. */
  finish(): Promise<void> {
    return this.serial(async () => {
      await this.renewIfDue();
      const { size } = await stat(this.path);
      // Nothing went up while recording (a short recording): one plain upload is quicker.
      if (!this.upload && size < FIRST_PART_BYTES) return this.place.store.put(this.place.keyFor(this.name), { path: this.path }, this.contentType);
      await this.sendParts(true);
      await (await this.begin()).complete();
    });
  }

  /** Drops what was sent (the output is being made again). */
  abort(): Promise<void> {
    return this.serial(async () => {
      const upload = this.forget();
      if (upload) await (await upload).abort();
    });
  }

  /** Opened anew: what was sent is left behind (dropped if the old rights still allow) and sent again. */
  private async renewIfDue(): Promise<void> {
    if (!(await this.place.renew?.())) return;
    const old = this.forget();
    if (old) await (await old).abort().catch(() => undefined);
  }

  private forget(): Promise<MultipartUpload> | null {
    const upload = this.upload;
    this.upload = null;
    this.sent = 0;
    this.nextPart = 1;
    this.parts = 0;
    return upload;
  }

  private async sendParts(all: boolean): Promise<void> {
    const { size } = await stat(this.path);
    const file = await open(this.path, 'r');
    try {
      for (;;) {
        const partSize = FIRST_PART_BYTES * 2 ** Math.floor((this.nextPart - 1) / PARTS_PER_SIZE);
        const left = size - this.sent;
        if (left <= 0 || (left < partSize && !all)) return;
        const length = all ? Math.min(left, partSize * 2) : partSize; // the tail may be a bit larger than a part
        const bytes = Buffer.alloc(length);
        const { bytesRead } = await file.read(bytes, 0, length, this.sent);
        const upload = await this.begin();
        await upload.part(this.nextPart, bytes.subarray(0, bytesRead));
        this.sent += bytesRead;
        this.nextPart++;
        this.parts++;
      }
    } finally {
      await file.close();
    }
  }

  private begin(): Promise<MultipartUpload> {
    if (!this.upload) {
      const started = this.place.store.beginMultipart(this.place.keyFor(this.name), this.contentType);
      this.upload = started;
      started.catch(() => {
        if (this.upload === started) this.upload = null; // tried again at the next step
      });
    }
    return this.upload;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.busy.then(fn);
    this.busy = run.catch(() => undefined);
    return run;
  }
}
