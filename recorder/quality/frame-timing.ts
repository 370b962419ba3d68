// The video frames' timing as the stream carries them (the file's own, since video is copied):
// how many there are and the longest gap between two, in recorded time (a pause leaves no gap).
export class FrameTiming {
  frames = 0;
  private last: number | null = null;
  private longestMs = 0;

  add(timeMs: number): void {
    this.frames++;
    if (this.last !== null && timeMs > this.last) this.longestMs = Math.max(this.longestMs, timeMs - this.last);
    if (this.last === null || timeMs > this.last) this.last = timeMs;
  }

  /** Seconds. */
  get longestGap(): number {
    return this.longestMs / 1000;
  }
}
