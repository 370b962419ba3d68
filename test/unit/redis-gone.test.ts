// The shutdown's way out of waiting on a Redis that is gone: waits end when abandoned, and a wait that
// ends by itself leaves nothing behind (a recording sends an event every few seconds for hours).
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { unlessAborted } from '../../lib/redis-gone.js';

describe('unlessAborted', () => {
  it('answers what the wait answers, and leaves no listener on the signal', async () => {
    const abandon = new AbortController();
    for (let i = 0; i < 100; i++) assert.equal(await unlessAborted(Promise.resolve(i), abandon.signal), i);
    await assert.rejects(unlessAborted(Promise.reject(new Error('no route')), abandon.signal), /no route/);
    assert.equal(getEventListeners(abandon.signal, 'abort').length, 0);
  });

  it('ends a wait that would never end once abandoned, and any later one at once', async () => {
    const abandon = new AbortController();
    const forever = unlessAborted(new Promise<never>(() => undefined), abandon.signal);
    abandon.abort(new Error('Redis is unreachable'));
    await assert.rejects(forever, /unreachable/);
    await assert.rejects(unlessAborted(Promise.resolve(1), abandon.signal), /unreachable/);
  });
});
