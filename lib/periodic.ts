// Runs a job every so often, never two runs at once (a slow run makes the next ones skip, not pile
// up); a failed run is logged and the next goes on.
export class Periodic {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly everyMs: number,
    private readonly job: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async runOnce(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.job();
    } catch (err) {
      this.onError(err);
    } finally {
      this.busy = false;
    }
  }
}
