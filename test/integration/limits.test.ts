// RATE_LIMIT and MAX_TASKS hold across hosts: two runtime hosts on one Redis, in one process, over
// real HTTP. The count lives in Redis, so spreading calls over the hosts gains nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebRecordClient } from '../../client/index.js';
import { appAuth } from '../../edge/app-auth.js';
import { redisSeenSignatures } from '../../lib/seen-signatures.js';
import { parseApiKeys } from '../../protocol/api-keys.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { type RuntimeHost, startRuntimeHost } from '../helpers/runtime-host.js';
import { sleep } from '../helpers/wait.js';

let redis: TestRedis;
const hosts: RuntimeHost[] = [];
const KEYS = parseApiKeys('one:secret-one-123,two:secret-two-123');

before(async () => {
  redis = await startTestRedis();
});
after(async () => {
  for (const h of hosts) await h.stop();
  await redis?.stop();
});

async function describeAt(host: RuntimeHost): Promise<{ status: number; json: Record<string, string>; retryAfter: string | null }> {
  const res = await fetch(`${host.url}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ Action: 'Describe', Data: { TaskID: 'none' } }) });
  return { status: res.status, json: (await res.json()) as Record<string, string>, retryAfter: res.headers.get('retry-after') };
}

describe('limits across hosts', () => {
  it('RATE_LIMIT per client address (open mode): past the burst, 429 RequestLimitExceeded with Retry-After, on either host; then it passes again', async () => {
    const a = await startRuntimeHost({ redisUrl: redis.url, name: 'rl-a', region: 'limits-rate', leaseTtlMs: 5000, rateLimit: { perSecond: 4, burst: 4 } });
    const b = await startRuntimeHost({ redisUrl: redis.url, name: 'rl-b', region: 'limits-rate', leaseTtlMs: 5000, rateLimit: { perSecond: 4, burst: 4 } });
    hosts.push(a, b);
    const answers = [];
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) answers.push(await describeAt(i % 2 ? b : a));
    // A loaded machine answers slower, and 4 a second accrue meanwhile: the bound follows the clock.
    const accrued = Math.floor(((performance.now() - t0) / 1000) * 4);
    const passed = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    assert.ok(passed.length >= 4 && passed.length <= 5 + accrued, `${passed.length} passed (burst 4, ${accrued} + 1 more may have accrued)`);
    assert.ok(limited.length >= 1, 'ten requests at once went past a burst of 4 without one refused');
    assert.equal(limited.length, 10 - passed.length);
    for (const r of passed) assert.equal(r.json.ErrorCode, 'TaskNotFound');
    for (const r of limited) {
      assert.equal(r.json.ErrorCode, 'RequestLimitExceeded');
      assert.match(r.json.ErrorMessage ?? '', /^too many requests from this address: try again in \d+ ms$/);
      assert.match(r.json.RequestID ?? '', /^[0-9a-f]{32}$/);
      assert.equal(r.retryAfter, '1');
    }
    await sleep(1100);
    assert.equal((await describeAt(b)).status, 200, 'a second later the rate allows more');
  });

  it('RATE_LIMIT per API key: one key past its rate does not slow another', async () => {
    const auth = (main: Parameters<typeof redisSeenSignatures>[0]) => appAuth({ keys: KEYS, seen: redisSeenSignatures(main) });
    const a = await startRuntimeHost({ redisUrl: redis.url, name: 'rk-a', region: 'limits-keys', leaseTtlMs: 5000, auth, rateLimit: { perSecond: 2, burst: 3 } });
    hosts.push(a);
    const one = new WebRecordClient({ url: a.url, credentials: { key: 'one', secret: 'secret-one-123' } });
    const two = new WebRecordClient({ url: a.url, credentials: { key: 'two', secret: 'secret-two-123' } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await one.call('Describe', { TaskID: 'none' })).status);
    assert.ok(statuses.filter((s) => s === 429).length >= 2, `key one limited: ${statuses.join(' ')}`);
    const limited = await one.call('Describe', { TaskID: 'none' });
    assert.equal(limited.answer.ErrorMessage?.startsWith('too many requests from ApiAppKey "one"'), true, JSON.stringify(limited.answer));
    const other = await two.call('Describe', { TaskID: 'none' });
    assert.equal(other.status, 200, 'key two is not limited');
  });

  it('MAX_TASKS: a Start past the cap is ResourceExhausted and creates nothing; a finished task frees its place', async () => {
    const a = await startRuntimeHost({ redisUrl: redis.url, name: 'mt-a', region: 'limits-tasks', leaseTtlMs: 5000, maxTasks: 3 });
    const b = await startRuntimeHost({ redisUrl: redis.url, name: 'mt-b', region: 'limits-tasks', leaseTtlMs: 5000, maxTasks: 3 });
    hosts.push(a, b);
    const ca = new WebRecordClient({ url: a.url });
    const cb = new WebRecordClient({ url: b.url });
    const ids = [];
    for (const c of [ca, cb, ca]) ids.push((await c.start({ RecordURL: 'http://page.test/' })).TaskID);
    const tasks = async () => (await redis.client().keys('wr:*:task:*')).length;
    const before = await tasks();
    for (const c of [ca, cb]) {
      const over = await c.call('Start', { RecordURL: 'http://page.test/', RecordId: `over-${Math.random()}` });
      assert.equal(over.status, 200);
      assert.equal(over.answer.ErrorCode, 'ResourceExhausted');
      assert.match(over.answer.ErrorMessage ?? '', /\(3, MAX_TASKS\)/);
      assert.equal(over.answer.TaskID, undefined);
    }
    assert.equal(await tasks(), before, 'nothing was created');
    // Stopped before any recorder took it: finished at once (NothingRecorded), and out of the count.
    await cb.stop(ids[0]!);
    assert.equal((await ca.describe(ids[0]!)).Status, 'finished');
    const again = await ca.start({ RecordURL: 'http://page.test/' });
    assert.match(again.TaskID, /^limits-tasks-[0-9a-f-]{36}$/, "a TaskID of the hosts' region");
  });
});
