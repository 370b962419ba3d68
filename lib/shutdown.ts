// Taking a service down in order, each step bounded: a step that waits on something already gone
// (Redis killed with us, say) must not keep the service from ending. Steps marked `onlyRedis` only
// wait on Redis and are cut short once it has been unreachable for a while.
import type { Logger } from './logger.js';
import type { RedisClient } from './redis-connect.js';
import { whenRedisGone } from './redis-gone.js';

type Step = { name: string; run: () => Promise<void>; onlyRedis?: boolean };

export class Shutdown {
  private readonly steps: Step[] = [];
  redis: RedisClient | null = null;

  constructor(
    private readonly log: Logger,
    private readonly limitMs: number,
  ) {}

  /** Steps run in the reverse order of their adding: what started last stops first. */
  add(step: Step): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const redis = this.redis ? whenRedisGone(this.redis) : null;
    void redis?.gone.then(() => this.log.warn('Redis is unreachable: shutting down without it'));
    for (const { name, run, onlyRedis } of this.steps.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.limitMs)));
      const gone = onlyRedis && redis ? redis.gone.then(() => 'gone' as const) : late;
      const t0 = performance.now();
      const outcome = await Promise.race([run().catch((err) => this.log.error({ step: name, err: String(err) }, 'stopping failed')), late, gone]);
      clearTimeout(timer);
      if (outcome === 'late') this.log.error({ step: name, limitMs: this.limitMs }, 'a shutdown step did not end in time; going on without it');
      else this.log.debug({ step: name, ms: Math.round(performance.now() - t0), ...(outcome === 'gone' ? { cut: 'Redis gone' } : {}) }, 'stopped');
    }
    redis?.cancel();
  }
}
