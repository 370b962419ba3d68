import { sleep } from '../test/helpers/wait.js';

/** Checks every 20 ms until true (the benchmarks' clock: Describe's times are whole seconds). */
export async function poll(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}
