// Runs ffmpeg/ffprobe as guarded children (they die with us) and reports failures with their stderr.
import { exited, type Marker, spawnGuarded } from '../../lib/child-process.js';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export type RunResult = { stdout: Buffer; stderr: string };

export async function runTool(
  command: string,
  args: string[],
  marker: Marker,
  opts: { signal?: AbortSignal; maxStdout?: number; secret?: Buffer } = {},
): Promise<RunResult> {
  // A secret (an encryption key) goes through a pipe on fd 3: never on disk, never in argv.
  const child = spawnGuarded(command, args, marker, { stdio: ['ignore', 'pipe', 'pipe', ...(opts.secret ? (['pipe'] as const) : [])] });
  if (opts.secret) (child.stdio[3] as import('node:stream').Writable).end(opts.secret);
  const out: Buffer[] = [];
  let outLen = 0;
  let err = '';
  child.stdout!.on('data', (b: Buffer) => {
    outLen += b.length;
    if (outLen <= (opts.maxStdout ?? 64 * 1024 * 1024)) out.push(b);
  });
  child.stderr!.on('data', (b: Buffer) => {
    err = (err + b.toString('utf8')).slice(-16_384); // the tail is what explains a failure
  });
  const onAbort = () => child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  try {
    const { code, signal } = await Promise.race([exited(child), spawnError]);
    if (code !== 0) {
      const last = err.trim().split('\n').slice(-3).join(' | ');
      throw new FfmpegError(`${command} failed (${signal ?? `exit ${code}`}): ${last}`, err);
    }
    return { stdout: Buffer.concat(out), stderr: err };
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
