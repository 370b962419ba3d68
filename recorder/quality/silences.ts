// Stretches of silence, as ffmpeg's silencedetect finds them in the audio it decodes anyway (to make
// AAC of the browser's Opus): the filter marks the frames where a silence of MIN_STRETCH_S began and
// ended, and ametadata prints those marks to a pipe of their own, read here line by line.
import { MIN_STRETCH_S, Stretches } from './stretches.js';

/** Quieter than this is silence: a page's quietest sound is well above it, digital silence far below. */
const NOISE_DB = -60;

/** The audio filter for the live ffmpeg: passes the audio through unchanged, printing the marks to file descriptor `fd`. */
export function silenceFilter(fd: number): string {
  // The ":" of pipe:N escaped for both levels ffmpeg parses, the graph and the filter's options.
  return `silencedetect=noise=${NOISE_DB}dB:duration=${MIN_STRETCH_S},ametadata=mode=print:file=pipe\\\\:${fd}`;
}

export class Silences {
  private readonly stretches = new Stretches();
  private since: number | null = null;

  /** One line of ametadata's output ("lavfi.silence_start=12.3", "frame:… pts_time:…", …). */
  line(text: string): void {
    const eq = text.indexOf('=');
    if (eq < 0) return;
    const key = text.slice(0, eq);
    const value = Number(text.slice(eq + 1));
    if (!Number.isFinite(value)) return;
    if (key === 'lavfi.silence_start') this.since = Math.max(0, value);
    else if (key === 'lavfi.silence_end' && this.since !== null) {
      this.stretches.add(this.since, value);
      this.since = null;
    }
  }

  /** The stretches, one still silent at the end closed there (`endS`). */
  report(endS: number) {
    if (this.since !== null) this.stretches.add(this.since, endS);
    this.since = null;
    return this.stretches.report();
  }
}
