// The page's own controls (API.md "The page's own controls"): window.startRecord(), pauseRecord(),
// resumeRecord(), refreshPage() and stopRecord(). Exposed as bindings, they survive reloads; each
// answers the page a Promise that resolves once the effect is in place and rejects with
// "<ErrorCode>: <why>" where the API command of that name would answer an error (InvalidState).
import type { Page } from 'puppeteer-core';

export type PageControl = 'start' | 'pause' | 'resume' | 'refresh' | 'stop';

/** Thrown by a handler when the task's state does not allow the control; the page sees the message. */
export class ControlRefused extends Error {
  constructor(
    readonly code: 'InvalidState',
    why: string,
  ) {
    super(`${code}: ${why}`);
  }
}

const NAMES: Record<PageControl, string> = {
  start: 'startRecord',
  pause: 'pauseRecord',
  resume: 'resumeRecord',
  refresh: 'refreshPage',
  stop: 'stopRecord',
};

export async function exposePageControls(page: Page, handle: (control: PageControl) => Promise<void>): Promise<void> {
  for (const [control, name] of Object.entries(NAMES) as [PageControl, string][]) {
    await page.exposeFunction(name, async () => {
      await handle(control);
      return true;
    });
  }
}
