// /metrics on every host, scraped as Prometheus would: it parses as Prometheus text, and its figures
// move with what the service does (requests by Action and ErrorCode, tasks by status, recordings running, their frame
// rate, Stop → finished, stored outputs, callback tries); a recorder-only host answers /healthz and
// /metrics of its own.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { scrape, valueOf } from '../helpers/prometheus.js';
import { startTestRedis, type TestRedis } from '../helpers/redis.js';
import { scratchDir } from '../helpers/scratch.js';
import { type RunningService, startRecorderProcess, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let pages: PageServer;
let hook: Server;
let hookUrl: string;
before(async () => {
  pages = await startPageServer();
  hook = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('ok')));
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
after(async () => {
  await pages?.close();
  hook?.close();
});

describe('metrics', () => {
  let svc: RunningService;
  before(async () => {
    svc = await startService({ RECORDER_SLOTS: '2' });
  });
  after(() => svc?.stop());

  it('move with the calls and the recording made', async () => {
    const before = await scrape(svc.url);
    assert.ok(
      before.some((s) => s.name === 'webrecord_process_cpu_seconds_total'),
      'the process figures are there',
    );
    const count = (samples: typeof before, action: string, code: string) => valueOf(samples, 'webrecord_api_requests_total', { action, code });

    assert.equal((await svc.api('Describe', { TaskID: 'no-such-task' })).ErrorCode, 'TaskNotFound');
    const started = await svc.api('Start', { RecordURL: pages.url('counter.html'), Width: 640, Height: 360, CallbackURL: hookUrl });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await svc.waitForStatus(id, 'recording', 30_000);
    await sleep(3000);
    const during = await scrape(svc.url);
    assert.equal(count(during, 'Describe', 'TaskNotFound') - count(before, 'Describe', 'TaskNotFound'), 1);
    assert.equal(count(during, 'Start', 'OK') - count(before, 'Start', 'OK'), 1);
    assert.ok(valueOf(during, 'webrecord_api_request_seconds_count', { action: 'Start' }) >= 1, 'Start timed');
    assert.equal(valueOf(during, 'webrecord_recordings'), 1, 'one recording running');
    assert.equal(valueOf(during, 'webrecord_tasks', { status: 'recording' }), 1, 'one task recording, by the status index');
    assert.equal(valueOf(during, 'webrecord_tasks', { status: 'normal' }), 0);
    assert.equal(valueOf(during, 'webrecord_recorder_slots_free'), 1, 'one slot of two left');
    assert.ok(
      during.some((x) => x.name === 'webrecord_queue_jobs' && x.labels.state === 'waiting'),
      'the queue is reported',
    );
    assert.deepEqual([valueOf(during, 'webrecord_queue_jobs', { state: 'waiting' }), valueOf(during, 'webrecord_queue_jobs', { state: 'taken' })], [0, 0], 'the job was taken and acknowledged');
    await waitFor(async () => valueOf(await scrape(svc.url), 'webrecord_recording_fps', { task: id }) > 0, { timeoutMs: 20_000, what: 'the recording’s frame rate' });

    assert.equal((await svc.api('Stop', { TaskID: id })).ErrorCode, undefined);
    const task = await svc.waitForStatus(id, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    // The task reads finished once its result is recorded; the recorder's own figure (observed just
    // after it reported) and the callback (sent after the result) follow a moment later.
    const delta = (samples: typeof before, name: string, labels: Record<string, string>) => valueOf(samples, name, labels) - valueOf(before, name, labels);
    let done = await scrape(svc.url);
    await waitFor(
      async () => {
        done = await scrape(svc.url);
        return (
          delta(done, 'webrecord_stop_to_finished_seconds_count', { muxer: 'mp4' }) >= 1 &&
          delta(done, 'webrecord_callback_tries_total', { outcome: 'delivered' }) >= 1 &&
          valueOf(done, 'webrecord_recordings') === 0
        );
      },
      { timeoutMs: 15_000, what: 'Stop → finished observed, the callback delivered and no recording running' },
    );
    assert.equal(delta(done, 'webrecord_stop_to_finished_seconds_count', { muxer: 'mp4' }), 1);
    assert.ok(valueOf(done, 'webrecord_stop_to_finished_seconds_sum', { muxer: 'mp4' }) < 30, 'Stop → finished took seconds, not minutes');
    assert.equal(delta(done, 'webrecord_uploads_total', { store: 'local', outcome: 'stored' }), 1);
    assert.equal(delta(done, 'webrecord_callback_tries_total', { outcome: 'delivered' }), 1);
    assert.equal(delta(done, 'webrecord_callback_tries_total', { outcome: 'failed' }), 0);
    assert.equal(done.filter((x) => x.name === 'webrecord_tasks').length, 0, 'no task left unfinished');
  });
});

describe('a recorder-only host', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startTestRedis();
  });
  after(() => redis?.stop());

  it('answers /healthz and /metrics on its PORT', async () => {
    const recorder = await startRecorderProcess({ REDIS_URL: redis.url, RECORDER_SLOTS: '3' }, scratchDir('metrics-recorder'));
    try {
      const health = await fetch(`${recorder.url}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(((await health.json()) as { detail: unknown }).detail, { role: 'recorder', recordings: 0, slotsFree: 3 });
      const samples = await scrape(recorder.url);
      assert.equal(valueOf(samples, 'webrecord_recorder_slots_free'), 3);
      assert.equal(samples.filter((s) => s.name === 'webrecord_api_requests_total').length, 0, 'no API here');
    } finally {
      await recorder.stop();
    }
  });
});
