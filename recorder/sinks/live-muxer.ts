// A running ffmpeg that turns the chunks into the final format while recording (video copied,
// audio to AAC). It never holds up the recording: writes are buffered, and if ffmpeg fails the
// output is made again from the intermediate file at Stop.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { exited, type Marker, spawnGuarded } from '../../lib/child-process.js';
import { mentionsDiskFault } from '../../lib/disk-space.js';
import { FfmpegArgs } from '../ffmpeg/args.js';
import { FfmpegError } from '../ffmpeg/run.js';
import type { Output } from '../outputs/output.js';
import { silenceFilter } from '../quality/silences.js';
import type { ChunkSink } from './chunk-sink.js';

/** The file descriptor of the live ffmpeg on which it prints its silence marks (3 is the HLS key's). */
const SILENCE_FD = 4;

/** Frames written and media time reached so far (from ffmpeg's progress reports). */
export type MuxProgress = { frames: number; seconds: number };

export class LiveMuxer implements ChunkSink {
  onProgress: (p: MuxProgress) => void = () => undefined;
  /** Each line ffmpeg prints of its silence marks (quality/silences.ts). */
  onSilenceLine: (line: string) => void = () => undefined;
  /** Told once, when ffmpeg fails while recording (with what it printed last). */
  onFailure: (why: string, stderr: string) => void = () => undefined;
  private failure: string | null = null;
  /** Ended on purpose (the recording is over): not a failure to tell. */
  private aborted = false;
  private stderr = '';
  private readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    this.done = exited(child);
    child.stderr!.on('data', (b: Buffer) => {
      const text = b.toString('utf8');
      this.stderr = (this.stderr + text).slice(-8192);
      // ffmpeg's HLS muxer carries on past a segment it could not write: the output has a hole,
      // and the disk will not empty itself; it is stopped, and told as failed.
      if (!this.failure && mentionsDiskFault(text)) {
        this.fail(`ffmpeg cannot write its output: ${text.trim().split('\n').find(mentionsDiskFault)}`);
        child.kill('SIGKILL');
      }
    });
    let report: Partial<Record<string, string>> = {};
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const eq = line.indexOf('=');
      if (eq < 0) return;
      const key = line.slice(0, eq);
      report[key] = line.slice(eq + 1);
      if (key !== 'progress') return;
      const frames = Number(report.frame);
      const us = Number(report.out_time_us);
      report = {};
      if (Number.isFinite(frames) && Number.isFinite(us) && us >= 0) this.onProgress({ frames, seconds: us / 1e6 });
    });
    const marks = child.stdio[SILENCE_FD] as Readable | undefined;
    if (marks) createInterface({ input: marks }).on('line', (line) => this.onSilenceLine(line));
    child.stdin!.on('error', (err) => this.fail(`ffmpeg stopped reading: ${err.message}`));
    child.on('error', (err) => this.fail(`ffmpeg did not start: ${err.message}`));
    void this.done.then(({ code, signal }) => {
      if (code !== 0) this.fail(`ffmpeg exited (${signal ?? `exit ${code}`}): ${this.stderrTail()}`);
    });
  }

  static start(ffmpegPath: string, output: Output, marker: Marker): LiveMuxer {
    const args = output.addTo(new FfmpegArgs().progress(1).audioFilter(silenceFilter(SILENCE_FD)).input('pipe:0', { format: 'matroska' })).toArgs();
    const secret = output.secret;
    const child = spawnGuarded(ffmpegPath, args, marker, { stdio: ['pipe', 'pipe', 'pipe', secret ? 'pipe' : 'ignore', 'pipe'] });
    if (secret) (child.stdio[3] as Writable).end(secret);
    return new LiveMuxer(child);
  }

  /** Why it failed, or null while it works. */
  get failed(): string | null {
    return this.failure;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) return;
    this.child.stdin!.write(chunk);
  }

  /** Ends the input and waits for ffmpeg to write the tail; throws if the output is not whole. */
  async close(): Promise<void> {
    if (!this.failure) this.child.stdin!.end();
    const { code, signal } = await this.done;
    if (this.failure || code !== 0) {
      throw new FfmpegError(this.failure ?? `ffmpeg exited (${signal ?? `exit ${code}`})`, this.stderr);
    }
  }

  abort(): void {
    this.aborted = true;
    this.child.kill('SIGKILL');
  }

  private fail(why: string): void {
    if (this.failure || this.aborted) return;
    this.failure = why;
    // Once ffmpeg is gone, with all it printed (a broken pipe is often heard before its last words).
    void this.done.then(() => this.onFailure(why, this.stderr));
  }

  private stderrTail(): string {
    return this.stderr.trim().split('\n').slice(-3).join(' | ');
  }
}
