// Stretches where the picture did not change, from the capture's samples (recorded ms, and whether
// the picture differed from the sample before). A stretch runs from a sample that showed a new
// picture to the next one that did: its length is right to within one sampling period.
import type { PictureSamples } from '../capture/tab-capture.js';
import { Stretches } from './stretches.js';

export class StillPictures {
  private readonly stretches = new Stretches();
  /** When the picture shown now first appeared (ms), or null before the first sample. */
  private since: number | null = null;
  private last = -1;
  /** Samples seen: none means the capture could not sample (the report says "not measured"). */
  samples = 0;

  add({ at, changed }: PictureSamples): void {
    for (let i = 0; i < at.length; i++) {
      const t = at[i]!;
      if (!Number.isFinite(t) || t < this.last) continue;
      this.samples++;
      this.last = t;
      if (this.since === null) this.since = t;
      else if (changed[i]) {
        this.stretches.add(this.since / 1000, t / 1000);
        this.since = t;
      }
    }
  }

  /** The stretches, the last one closed at the end of the recording (`endS`). */
  report(endS: number) {
    const s = this.stretches;
    if (this.since !== null) s.add(this.since / 1000, Math.max(endS, this.last / 1000));
    this.since = null;
    return s.report();
  }
}
