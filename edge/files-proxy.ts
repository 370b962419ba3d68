// GET /files/<TaskID>/… of a region this process does not serve from its own disk: fetched from that
// region's endpoint and streamed back as it comes (Range and validators passed through), so a player
// pointed at any region or edge plays the file. Local storage only: COS and VOD files have URLs of
// their own.
import type { Hono } from 'hono';
import { regionOf } from '../protocol/region.js';
import { type EdgeEnv, fail } from './envelope.js';

export type FilesProxyOptions = {
  /** The region asked (a host's own, or the edge worker's). */
  own: string;
  /** Whether this process serves `own`'s files itself (a host: yes, what reaches here is missing). */
  ownIsLocal: boolean;
  endpoints: ReadonlyMap<string, string>;
  timeoutMs?: number;
  fetch?: typeof fetch;
};

const ASKED = ['range', 'if-none-match', 'if-modified-since', 'if-range'];
const ANSWERED = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'cache-control', 'etag', 'last-modified'];

export function mountFilesProxy(app: Hono<EdgeEnv>, o: FilesProxyOptions): void {
  const get = o.fetch ?? ((input, init) => fetch(input, init));
  app.on(['GET', 'HEAD'], '/files/*', async (c, next) => {
    // TaskIDs are plain ASCII: the first segment is read as sent (a malformed escape must not throw).
    const region = regionOf(c.req.path.split('/')[2] ?? '') ?? o.own;
    const endpoint = o.endpoints.get(region);
    if ((region === o.own && o.ownIsLocal) || !endpoint) return next();
    const url = new URL(c.req.url);
    const headers = new Headers();
    for (const h of ASKED) {
      const v = c.req.header(h);
      if (v) headers.set(h, v);
    }
    let res: Response;
    try {
      res = await get(endpoint + url.pathname + url.search, { method: c.req.method, headers, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
    } catch {
      return fail(c, 'ServiceUnavailable', `region ${region} cannot be reached for this file; try again`, 503);
    }
    const out = new Headers({ 'access-control-allow-origin': '*' });
    for (const h of ANSWERED) {
      const v = res.headers.get(h);
      if (v) out.set(h, v);
    }
    return new Response(c.req.method === 'HEAD' ? null : res.body, { status: res.status, headers: out });
  });
}
