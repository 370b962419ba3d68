// Free space where a path lives, and what a failed write says about the disk.
import { statfs } from 'node:fs/promises';

/** Bytes an unprivileged writer may still use on the filesystem of `path`. */
export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}

const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EIO: 'the disk failed',
  EROFS: 'the disk is read-only',
};

/** What a tool (ffmpeg) prints for each of them (strerror). */
const DISK_MESSAGES: [RegExp, string][] = [
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Input\/output error/, 'EIO'],
  [/Read-only file system/, 'EROFS'],
];

/** Whether what a tool printed tells of a disk fault. */
export function mentionsDiskFault(text: string): boolean {
  return DISK_MESSAGES.some(([re]) => re.test(text));
}

/** The same from what a tool printed (ffmpeg's stderr); null when it tells of no disk fault. */
export function diskFaultIn(text: string, path: string): string | null {
  const found = DISK_MESSAGES.find(([re]) => re.test(text));
  return found ? diskFault({ code: found[1] }, path) : null;
}

/** "the disk is full (ENOSPC) writing <path>" for a disk's fault; null for any other error. */
export function diskFault(err: unknown, path: string): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const what = code ? DISK_ERRORS[code] : undefined;
  return what ? `${what} (${code}) writing ${path}` : null;
}
