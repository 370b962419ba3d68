export async function waitFor(check: () => Promise<boolean> | boolean, o: { timeoutMs: number; intervalMs?: number; what: string | (() => string) }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${o.timeoutMs} ms waiting for ${typeof o.what === 'function' ? o.what() : o.what}`);
    await sleep(o.intervalMs ?? 200);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
