// Everything the recorded page opens goes through the recorder's egress proxy and the URL policy: a
// page on 127.0.0.2 (opened by URL_ALLOWLIST) aims at a trap on 127.0.0.3 (outside it) in every way a
// page can, and the trap must see no connection at all — while the page itself records fine.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { download } from '../helpers/download.js';
import { analyse } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { type RunningService, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

let svc: RunningService;
let pages: PageServer;
let trap: Server;
let trapAt: string;
const trapped: string[] = [];

before(async () => {
  trap = createServer((socket) => {
    // Every connection counts: by its first line, or as silent.
    let said = false;
    socket.once('data', (d) => {
      said = true;
      trapped.push(d.toString('latin1').split('\r\n')[0]!);
    });
    socket.once('close', () => said || trapped.push('(a connection that sent nothing)'));
    socket.on('error', () => undefined);
    setTimeout(() => socket.destroy(), 200);
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.3', r));
  trapAt = `127.0.0.3:${(trap.address() as AddressInfo).port}`;
  pages = await startPageServer('127.0.0.2');
  svc = await startService({ URL_ALLOWLIST: '127.0.0.2' });
});
after(async () => {
  await svc?.stop();
  await pages?.close();
  trap?.close();
});

describe('the URL policy inside the recorded page', () => {
  it('the trap counts what reaches it (the check below can fail)', async () => {
    await fetch(`http://${trapAt}/control`).catch(() => undefined);
    await waitFor(() => trapped.length > 0, { timeoutMs: 2000, what: 'the control request' });
    await sleep(300); // its close
    assert.deepEqual(trapped, ['GET /control HTTP/1.1']);
    trapped.length = 0;
  });

  it('fetch, https, image, iframe, redirect, location, beacon, WebSocket, prefetch, worker and service worker to 127.0.0.3: no connection; the page records; Warnings name 127.0.0.3', async () => {
    const mark = crypto.randomUUID();
    const started = await svc.api('Start', { RecordURL: pages.url('egress.html', { trap: trapAt, id: mark }) });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const id = started.TaskID as string;
    await svc.waitForStatus(id, 'recording', 30_000);
    await waitFor(() => pages.notes.get(mark)?.some((n) => n.text.startsWith('sent:')) ?? false, { timeoutMs: 15_000, what: 'the page to send its requests' });
    const sent = pages.notes
      .get(mark)!
      .find((n) => n.text.startsWith('sent:'))!
      .text.slice(5)
      .split(',');
    assert.deepEqual(sent, ['fetch', 'fetch-https', 'image', 'iframe', 'redirect', 'location', 'beacon', 'websocket', 'prefetch', 'worker', 'service-worker'], 'the page sent every kind of request');
    await sleep(3000); // the worker's, the service worker's and the frames' requests, on their way
    const during = await svc.api('Describe', { TaskID: id });
    assert.equal((await svc.api('Stop', { TaskID: id })).ErrorCode, undefined);
    const task = await svc.waitForStatus(id, 'finished', 60_000);

    assert.deepEqual(trapped, [], 'nothing reached the trap');
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const warnings = (during.Warnings ?? []) as { Message: string }[];
    const named = warnings.filter((w) => w.Message.includes('127.0.0.3'));
    assert.equal(named.length, 1, `one warning for the host: ${JSON.stringify(warnings)}`);
    assert.match(named[0]!.Message, /^a request of the page to 127\.0\.0\.3 was blocked by the URL policy: 127\.0\.0\.3 is a loopback address$/);

    const file = join(svc.dataDir, `${id}.mp4`);
    await download(task.Result.Videos[0].FileURL, file);
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.ok(a.info.duration >= 3, `the page was recorded (${a.info.duration} s)`);
    assert.ok(a.distinctPerSecond >= 25, `distinct frames per second ${a.distinctPerSecond.toFixed(2)}`);
  });

  it('a RecordURL whose navigation is redirected outside the policy ends PageLoadFailed, naming why; nothing connects', async () => {
    const started = await svc.api('Start', { RecordURL: pages.url('redirect', { to: `http://${trapAt}/landing` }) });
    assert.equal(started.ErrorCode, undefined, JSON.stringify(started));
    const task = await svc.waitForStatus(started.TaskID, 'finished', 30_000);
    assert.equal(task.Result.ErrorCode, 'PageLoadFailed');
    assert.equal(task.Result.ErrorMessage, 'RecordURL is outside the URL policy: 127.0.0.3 is a loopback address');
    assert.deepEqual(trapped, []);
  });
});
