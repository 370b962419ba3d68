// Stretches of a recording where something held (a picture that did not change, silence), in
// seconds from the video's start: only those of MIN_STRETCH_S or more are kept, the first
// MAX_LISTED of them listed and all of them counted in the total.
import type { QualityStretches } from '../../protocol/task.js';

export const MIN_STRETCH_S = 5;
/** A ten-hour class of still slides must not make a result of thousands of entries. */
export const MAX_LISTED = 100;

export class Stretches {
  private readonly listed: { Start: number; Duration: number }[] = [];
  private count = 0;
  private seconds = 0;

  add(startS: number, endS: number): void {
    const duration = endS - startS;
    if (!(duration >= MIN_STRETCH_S)) return;
    this.count++;
    this.seconds += duration;
    if (this.listed.length < MAX_LISTED) this.listed.push({ Start: round(startS), Duration: round(duration) });
  }

  report(): QualityStretches {
    return { Count: this.count, TotalSeconds: round(this.seconds), List: [...this.listed] };
  }
}

const round = (s: number) => Math.round(s * 100) / 100;
