// Delivers the finished-task webhook: POST of the Describe answer, signed so the receiver can trust it
// (X-WebRecord-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">). It connects only to
// addresses within the URL policy, checked on the resolved addresses of this very connection, and
// follows no redirect.
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Effect } from '../actors/task-actor.js';
import { guardedLookup, PolicyBlocked, resolveChecked } from '../lib/guarded-lookup.js';
import { DEFAULT_POLICY, parseIp, portOfUrl, type UrlPolicy } from '../protocol/url-policy.js';

export type CallbackEffect = Extract<Effect, { type: 'deliverCallback' }>;

export function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export class CallbackSender {
  constructor(
    private readonly secret: string | undefined,
    private readonly timeoutMs: number,
    private readonly policy: UrlPolicy = DEFAULT_POLICY,
  ) {}

  async deliver(effect: CallbackEffect): Promise<{ ok: boolean; error?: string }> {
    const body = JSON.stringify(effect.body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'webrecord-callback/1',
      'x-webrecord-event': 'finished',
      'x-webrecord-delivery': effect.deliveryId,
    };
    if (this.secret) headers['x-webrecord-signature'] = signature(this.secret, Math.floor(Date.now() / 1000), body);
    try {
      const url = new URL(effect.url);
      // A socket resolves names through the guarded lookup, but connects to an address as it is.
      if (parseIp(url.hostname)) await resolveChecked(this.policy, url.hostname, portOfUrl(url));
      const status = await this.post(url, headers, body);
      return status.code >= 200 && status.code < 300 ? { ok: true } : { ok: false, error: `HTTP ${status.code} ${status.text}`.trim() };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e instanceof PolicyBlocked) return { ok: false, error: e.message };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') return { ok: false, error: `timeout of ${this.timeoutMs}ms exceeded` };
      return { ok: false, error: e.code ?? e.message };
    }
  }

  /** One POST; answers the status (a redirect is a status like any other: not followed). */
  private post(url: URL, headers: Record<string, string>, body: string): Promise<{ code: number; text: string }> {
    const https = url.protocol === 'https:';
    const port = portOfUrl(url);
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, { method: 'POST', headers, lookup: guardedLookup(this.policy, port) as never, signal: AbortSignal.timeout(this.timeoutMs) }, (res) => {
        res.resume(); // the answer's body is not needed
        res.on('end', () => resolve({ code: res.statusCode ?? 0, text: res.statusMessage ?? '' }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
