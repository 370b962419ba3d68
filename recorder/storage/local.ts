// The local store: objects are files under DATA_DIR/files/<key>, served by the service at /files/.
import { appendFile, copyFile, mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Destination, MultipartUpload, ObjectStore, Published } from './target.js';

export class LocalStore implements ObjectStore {
  readonly name = 'local disk';

  constructor(
    readonly filesDir: string,
    private readonly publicUrl: string,
  ) {}

  async put(key: string, body: Buffer | { path: string }, _contentType?: string): Promise<void> {
    const dest = await this.pathFor(key);
    if (Buffer.isBuffer(body)) return writeFile(dest, body);
    try {
      await rename(body.path, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(body.path, dest); // a different filesystem: copy, then drop the original
      await unlink(body.path);
    }
  }

  async beginMultipart(key: string): Promise<MultipartUpload> {
    const dest = await this.pathFor(key);
    const partial = `${dest}.partial`;
    await writeFile(partial, '');
    let next = 1;
    return {
      part: async (n, bytes) => {
        if (n !== next) throw new Error(`part ${n} of ${key} came before part ${next}`);
        await appendFile(partial, bytes);
        next++;
      },
      complete: () => rename(partial, dest),
      abort: () => rm(partial, { force: true }),
    };
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((k) => rm(join(this.filesDir, k), { force: true })));
  }

  urlOf(key: string): string {
    return `${this.publicUrl}/files/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  private async pathFor(key: string): Promise<string> {
    const path = join(this.filesDir, key);
    await mkdir(dirname(path), { recursive: true });
    return path;
  }
}

/** A task's output on local disk: `<TaskID>/<name>`, its folder published as it is written. */
export async function localDestination(store: LocalStore, taskId: string): Promise<Destination> {
  const localDir = join(store.filesDir, taskId);
  await mkdir(localDir, { recursive: true });
  return {
    store,
    localDir,
    keyFor: (name) => `${taskId}/${name}`,
    complete: async (mainKey): Promise<Published> => ({ url: store.urlOf(mainKey) }),
  };
}
