// What one recording costs in CPU on this machine, learnt from the recordings themselves: machines
// differ (the same recording measured 0.74 cores on one 2-core VM and 1.17 on another), so a fixed
// figure either wastes a machine or overloads it. Pure logic; the recorder feeds it measurements.

export type CostSample = {
  /** Cores the recording's processes (its browser, its ffmpeg) used over the sampled stretch. */
  cores: number;
  /** The whole machine over the same stretch. */
  hostCores: number;
  hostBusyCores: number;
};

/**
 * The cost assumed until a recording here has been measured: 1280×720@30 on the 2-core VM where
 * `npm run bench:record` was first run. Low rather than high, so a new machine is not left idle.
 */
export const FIRST_GUESS_CORES = 0.75;

/** Below this many idle cores the machine is saturated: recordings get less CPU than they need. */
const SATURATED_BELOW = 0.25;
/** Weight of a new measurement: a few recordings' worth of history, quick to follow a change. */
const ALPHA = 0.3;

export class CostCalibration {
  private estimate: number;
  private measured = 0;

  /**
   * `fixed`: the operator set the cost; measurements are ignored. Otherwise `initial` is the guess
   * until the first measurement.
   */
  constructor(
    initial: number,
    private readonly fixed: boolean,
  ) {
    this.estimate = initial;
  }

  /** Cores one more recording is expected to need. */
  get cores(): number {
    return +this.estimate.toFixed(3);
  }

  /** How many measurements the estimate rests on (0: still the initial guess or the fixed figure). */
  get samples(): number {
    return this.measured;
  }

  /**
   * Takes in a measurement, unless the machine was saturated: a starved recording uses less than
   * it needs, and learning that would admit more work into an overloaded machine.
   */
  observe(s: CostSample): boolean {
    if (this.fixed || !(s.cores > 0) || s.hostCores - s.hostBusyCores < SATURATED_BELOW) return false;
    this.estimate = this.measured === 0 ? s.cores : this.estimate * (1 - ALPHA) + s.cores * ALPHA;
    this.measured++;
    return true;
  }
}
