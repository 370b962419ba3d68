// Delivers the finished-task webhook: POST of the Describe answer, signed so the receiver can trust it
// (X-WebRecord-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">).
import { createHmac } from 'node:crypto';
import type { Effect } from '../actors/task-actor.js';

export type CallbackEffect = Extract<Effect, { type: 'deliverCallback' }>;

export function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export class CallbackSender {
  constructor(
    private readonly secret: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  async deliver(effect: CallbackEffect): Promise<{ ok: boolean; error?: string }> {
    const body = JSON.stringify(effect.body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'webrecord-callback/1',
      'x-webrecord-event': 'finished',
      'x-webrecord-delivery': effect.deliveryId,
    };
    if (this.secret) headers['x-webrecord-signature'] = signature(this.secret, Math.floor(Date.now() / 1000), body);
    try {
      const res = await fetch(effect.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok ? { ok: true } : { ok: false, error: `HTTP ${res.status} ${res.statusText}`.trim() };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError') return { ok: false, error: `timeout of ${this.timeoutMs}ms exceeded` };
      return { ok: false, error: e.cause?.code ?? e.cause?.message ?? e.message };
    }
  }
}
