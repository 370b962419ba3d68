// The local storage target: files under DATA_DIR/files/<TaskID>/, served by the service at /files/.
import { copyFile, mkdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Stored, StorageTarget } from './target.js';

export class LocalStorage implements StorageTarget {
  constructor(
    private readonly filesDir: string,
    private readonly publicUrl: string,
  ) {}

  async put(taskId: string, name: string, localPath: string): Promise<Stored> {
    const dest = join(await this.liveDir(taskId), name);
    try {
      await rename(localPath, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await copyFile(localPath, dest); // a different filesystem: copy, then drop the original
      await unlink(localPath);
    }
    const { size } = await stat(dest);
    return { url: this.urlOf(taskId, name), size };
  }

  async liveDir(taskId: string): Promise<string> {
    const dir = join(this.filesDir, taskId);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  urlOf(taskId: string, name: string): string {
    return `${this.publicUrl}/files/${encodeURIComponent(taskId)}/${encodeURIComponent(name)}`;
  }
}
