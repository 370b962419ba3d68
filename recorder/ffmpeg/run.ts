// Runs ffmpeg/ffprobe as guarded children (they die with us) and reports failures with their stderr.
// Every run is bounded: a child that runs too long, falls silent for too long (a stalled read, a hung
// mount) or writes more than it may is killed, and that is reported as a typed failure.
import type { ChildProcess } from 'node:child_process';
import { exited, type Marker, spawnGuarded } from '../../lib/child-process.js';

/** Why a run failed: it exited non-zero, overran a bound, was aborted, or never started. */
export type FfmpegFailure = 'exit' | 'timeout' | 'stalled' | 'output' | 'aborted' | 'spawn';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly reason: FfmpegFailure = 'exit',
  ) {
    super(message);
  }
}

export type RunResult = { stdout: Buffer; stderr: string };

export type RunOptions = {
  signal?: AbortSignal;
  secret?: Buffer;
  /** Kept stdout; a child writing more is killed ('output'). Only with stdout 'collect'. */
  maxStdout?: number;
  /** 'collect' keeps stdout for the caller; 'progress' only takes it as a sign of life (-progress reports). */
  stdout?: 'collect' | 'progress';
  /** Killed after this long in all ('timeout'). */
  timeoutMs?: number;
  /** Killed after this long without a byte on stdout or stderr ('stalled'). */
  idleMs?: number;
};

const DEFAULT_MAX_STDOUT = 16 << 20;
// A backstop only: a remake of ten hours copies the video and takes minutes, not hours.
const DEFAULT_TIMEOUT_MS = 6 * 3600_000;
const STDERR_TAIL = 16_384;

export async function runTool(command: string, args: string[], marker: Marker, opts: RunOptions = {}): Promise<RunResult> {
  // A secret (an encryption key) goes through a pipe on fd 3: never on disk, never in argv.
  const child = spawnGuarded(command, args, marker, { stdio: ['ignore', 'pipe', 'pipe', ...(opts.secret ? (['pipe'] as const) : [])] });
  if (opts.secret) (child.stdio[3] as import('node:stream').Writable).on('error', () => undefined).end(opts.secret);
  const watch = new Watch(child, opts);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  try {
    const { code, signal } = await Promise.race([exited(child), spawnError]);
    // A kill that raced a clean exit changed nothing, unless it cut the output the caller reads.
    const killed = watch.killedFor && (code !== 0 || watch.killedFor === 'output') ? watch.killedFor : null;
    if (killed) throw new FfmpegError(`${command} ${watch.why()}${watch.tail()}`, watch.stderr, killed);
    if (code !== 0) throw new FfmpegError(`${command} failed (${signal ?? `exit ${code}`})${watch.tail()}`, watch.stderr);
    return { stdout: Buffer.concat(watch.out), stderr: watch.stderr };
  } catch (err) {
    if (err instanceof FfmpegError) throw err;
    throw new FfmpegError(`${command} did not start: ${(err as Error).message}`, '', 'spawn');
  } finally {
    watch.stop();
  }
}

/** Captures a child's output within bounds and kills it when it overruns one. */
class Watch {
  readonly out: Buffer[] = [];
  stderr = '';
  killedFor: FfmpegFailure | null = null;
  private outLen = 0;
  private readonly deadline: NodeJS.Timeout;
  private idle: NodeJS.Timeout | null = null;
  private readonly onAbort = () => this.kill('aborted');

  constructor(
    private readonly child: ChildProcess,
    private readonly opts: RunOptions,
  ) {
    child.stdout!.on('data', (b: Buffer) => this.onStdout(b));
    child.stderr!.on('data', (b: Buffer) => {
      this.alive();
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_TAIL); // the tail is what explains a failure
    });
    this.deadline = setTimeout(() => this.kill('timeout'), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.alive();
    if (opts.signal?.aborted) this.kill('aborted');
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  why(): string {
    const bounds: Record<FfmpegFailure, string> = {
      timeout: `ran past its ${this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`,
      stalled: `made no progress for ${this.opts.idleMs} ms`,
      output: `wrote more than ${this.opts.maxStdout ?? DEFAULT_MAX_STDOUT} bytes`,
      aborted: 'was aborted',
      exit: 'failed',
      spawn: 'did not start',
    };
    return `was killed: it ${bounds[this.killedFor ?? 'exit']}`;
  }

  /** The last lines of stderr, after a colon, if there are any. */
  tail(): string {
    const last = this.stderr.trim().split('\n').slice(-3).join(' | ');
    return last ? `: ${last}` : '';
  }

  stop(): void {
    clearTimeout(this.deadline);
    if (this.idle) clearTimeout(this.idle);
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }

  private onStdout(b: Buffer): void {
    this.alive();
    if (this.opts.stdout === 'progress') return;
    this.outLen += b.length;
    if (this.outLen > (this.opts.maxStdout ?? DEFAULT_MAX_STDOUT)) this.kill('output');
    else this.out.push(b);
  }

  /** Output is a sign of life: the idle bound starts again. */
  private alive(): void {
    if (this.opts.idleMs === undefined) return;
    if (this.idle) this.idle.refresh();
    else this.idle = setTimeout(() => this.kill('stalled'), this.opts.idleMs);
  }

  private kill(reason: FfmpegFailure): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.killedFor ??= reason;
    this.child.kill('SIGKILL');
  }
}
