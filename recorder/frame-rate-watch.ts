// Watches the frame rate a recording captures, in media time (frames per second of recording, so a
// pause counts for nothing): below the threshold over a whole window, it warns once, and again only
// after the rate came back.
export class FrameRateWatch {
  private readonly samples: { frames: number; seconds: number }[] = [];
  private low = false;

  constructor(
    private readonly threshold: number,
    private readonly onLow: (fps: number, windowSeconds: number) => void,
    private readonly windowSeconds = 10,
  ) {}

  /** The rate over the last window, once a whole window was seen. */
  fps: number | null = null;

  add(frames: number, seconds: number): void {
    const last = this.samples.at(-1);
    if (last && seconds <= last.seconds) return;
    this.samples.push({ frames, seconds });
    // Keep one sample at or before the window's start.
    while (this.samples.length > 2 && this.samples[1]!.seconds <= seconds - this.windowSeconds) this.samples.shift();
    const first = this.samples[0]!;
    if (seconds - first.seconds < this.windowSeconds) return;
    this.fps = (frames - first.frames) / (seconds - first.seconds);
    if (this.threshold <= 0) return;
    if (this.fps < this.threshold && !this.low) {
      this.low = true;
      this.onLow(this.fps, seconds - first.seconds);
    } else if (this.fps >= this.threshold) {
      this.low = false;
    }
  }
}
