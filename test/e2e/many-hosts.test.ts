// Many hosts, one service: three runtime hosts (ROLE=api) and two recorder hosts (ROLE=recorder) as
// separate processes on a Redis Cluster of three masters, sharing one data directory, all on
// loopback. Every call reaches its task's actor from any host; killing any one host loses no recording.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keys, JOBS_GROUP } from '../../protocol/keys.js';
import { shardOf } from '../../protocol/shard.js';
import { ownerOf } from '../../wrangler-free-runtime/placement/rendezvous.js';
import { download } from '../helpers/download.js';
import { mediaInfo } from '../helpers/media.js';
import { type PageServer, startPageServer } from '../helpers/pages.js';
import { startTestCluster, type TestCluster } from '../helpers/redis-cluster.js';
import { scratchDir } from '../helpers/scratch.js';
import { type Answer, processesOf, type RecorderProcess, type RunningService, startRecorderProcess, startService } from '../helpers/service.js';
import { sleep, waitFor } from '../helpers/wait.js';

const SECRET = 'a-cluster-secret-for-the-tests';
const LEASE_TTL_MS = 4000;
const SIZE = { Width: 640, Height: 360 };

type Host = RunningService & { id: string };

let cluster: TestCluster;
let pages: PageServer;
const dataDir = scratchDir('many-hosts');
let hosts: Host[] = [];
let recorders: RecorderProcess[] = [];
const stopped: Record<string, string>[] = []; // run markers of processes that must have no process left

const common = () => ({ REDIS_CLUSTER_NODES: cluster.seeds, CLUSTER_SECRET: SECRET, LEASE_TTL_MS: String(LEASE_TTL_MS), LOG_LEVEL: 'debug' });

async function startHost(): Promise<Host> {
  const svc = await startService({ ...common(), ROLE: 'api' }, { dataDir });
  const health = (await (await fetch(`${svc.url}/healthz`)).json()) as { detail: { host: string } };
  return { ...svc, id: health.detail.host };
}

function startRecorder(): Promise<RecorderProcess> {
  return startRecorderProcess(
    // No admission checks: four recordings on a 2-core machine are about routing here, not quality.
    { ...common(), PUBLIC_URL: hosts[0]!.url, RECORDER_SLOTS: '3', ADMISSION_CPU_CORES: '0', ADMISSION_MEMORY_MB: '0', BROWSER_POOL: '0', FPS_WARNING_BELOW: '0' },
    dataDir,
  );
}

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;
const owner = (taskId: string) =>
  ownerOf(
    shardOf(taskId),
    hosts.map((h) => h.id),
  )!;
const notOwner = (taskId: string) => pick(hosts.filter((h) => h.id !== owner(taskId)));

/** A call through a host that does not own the task, timed. */
async function viaNonOwner(action: string, taskId: string): Promise<{ answer: Answer; ms: number }> {
  const host = notOwner(taskId);
  const t0 = performance.now();
  const answer = await host.api(action, { TaskID: taskId });
  return { answer, ms: performance.now() - t0 };
}

async function startTask(): Promise<string> {
  // A page cheap to render and encode: four recordings share two cores with five services here.
  const answer = await pick(hosts).api('Start', { RecordURL: pages.url('clock.html'), ...SIZE });
  assert.ok(answer.TaskID, JSON.stringify(answer));
  return answer.TaskID as string;
}

/** Downloads a finished task's video through any live host (the data directory is shared). */
async function videoOf(task: Answer): Promise<ReturnType<typeof mediaInfo>> {
  assert.equal(task.Result.Videos.length, 1, JSON.stringify(task.Result));
  const path = new URL(task.Result.Videos[0].FileURL).pathname;
  const file = join(dataDir, `${task.TaskID}-download.mp4`);
  await download(pick(hosts).url + path, file);
  const info = mediaInfo(file);
  assert.equal(info.video?.codec, 'h264');
  assert.equal(info.audio?.codec, 'aac');
  return info;
}

/** Whether the recorder took the task's job (its log says so). */
const took = (r: RecorderProcess, taskId: string) => readFileSync(r.logFile, 'utf8').includes(`"taskId":"${taskId}","attempt"`);

function recorderOf(taskId: string): RecorderProcess {
  const found = recorders.find((r) => took(r, taskId));
  assert.ok(found, `a recorder took ${taskId}`);
  return found;
}

before(async () => {
  [cluster, pages] = await Promise.all([startTestCluster(3), startPageServer()]);
  for (let i = 0; i < 3; i++) hosts.push(await startHost());
  recorders = [await startRecorder(), await startRecorder()];
});

after(async () => {
  await Promise.all([...hosts.map((h) => h.stop()), ...recorders.map((r) => r.stop())]);
  await pages?.close();
  await cluster?.stop();
});

describe('many hosts on a Redis Cluster', () => {
  it('four recordings through random hosts: every command through a host that does not own the task answers within 1 s', async () => {
    const ids: string[] = [];
    try {
      // One after another: browser launches at once would take the machine for half a minute.
      for (let i = 0; i < 4; i++) {
        ids.push(await startTask());
        await pick(hosts).waitForStatus(ids[i]!, 'recording', 60_000);
      }
      const slowest: Record<string, number> = {};
      const call = async (action: string, id: string, want: (a: Answer) => boolean) => {
        const { answer, ms } = await viaNonOwner(action, id);
        assert.ok(want(answer), `${action} ${id} through a non-owner: ${JSON.stringify(answer)}`);
        assert.ok(ms < 1000, `${action} answered in ${ms.toFixed(0)} ms`);
        slowest[action] = Math.max(slowest[action] ?? 0, ms);
      };
      await sleep(2000);
      for (const id of ids) await call('Pause', id, (a) => !a.ErrorCode);
      for (const id of ids) await call('Describe', id, (a) => a.Status === 'paused');
      for (const id of ids) await call('Resume', id, (a) => !a.ErrorCode);
      for (const id of ids) await call('Refresh', id, (a) => !a.ErrorCode);
      await sleep(2000);
      for (const id of ids) await call('Stop', id, (a) => !a.ErrorCode);
      for (const id of ids) {
        const task = await pick(hosts).waitForStatus(id, 'finished', 60_000);
        assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
        const info = await videoOf(task);
        assert.ok(info.duration > 2.5, `${info.duration} s recorded`);
      }
      // Work spread over both recorders.
      const perRecorder = recorders.map((r) => ids.filter((id) => took(r, id)).length);
      assert.ok(
        perRecorder.every((n) => n > 0),
        `jobs per recorder: ${perRecorder.join(', ')}`,
      );
      console.log(`slowest answer through a non-owner, ms: ${JSON.stringify(Object.fromEntries(Object.entries(slowest).map(([k, v]) => [k, Math.round(v)])))}`);
    } finally {
      // A failure above leaves nothing recording into the next test's slots.
      await Promise.all(ids.map((id) => hosts[0]!.api('Stop', { TaskID: id }).catch(() => undefined)));
      await Promise.all(ids.map((id) => hosts[0]!.waitForStatus(id, 'finished', 60_000).catch(() => undefined)));
    }
  });

  it('SIGKILL of the runtime host that owns a recording: its commands work again within the lease TTL; the recording goes on', async () => {
    const id = await startTask();
    await pick(hosts).waitForStatus(id, 'recording', 60_000);
    const recordingFrom = Date.now();
    const doomed = hosts.find((h) => h.id === owner(id))!;
    await doomed.stop('SIGKILL');
    stopped.push(doomed.runMarker);
    const killedAt = Date.now();
    hosts = hosts.filter((h) => h !== doomed);
    // Commands through the survivors: answered again once the dead owner's lease has expired.
    let paused: Answer | null = null;
    while (!paused) {
      const a = await pick(hosts).api('Pause', { TaskID: id });
      if (!a.ErrorCode) paused = a;
      else {
        assert.equal(a.ErrorCode, 'ServiceUnavailable', JSON.stringify(a));
        assert.ok(Date.now() - killedAt < LEASE_TTL_MS + 3000, `still unavailable ${Date.now() - killedAt} ms after the kill`);
        await sleep(100);
      }
    }
    const pausedAt = Date.now();
    assert.ok(pausedAt - killedAt < LEASE_TTL_MS + 3000, `Pause answered ${pausedAt - killedAt} ms after the kill`);
    assert.equal((await pick(hosts).api('Describe', { TaskID: id })).Status, 'paused');
    assert.ok(!(await pick(hosts).api('Resume', { TaskID: id })).ErrorCode);
    const resumedAt = Date.now();
    await sleep(2000);
    assert.ok(!(await pick(hosts).api('Stop', { TaskID: id })).ErrorCode);
    const stopAt = Date.now();
    const task = await pick(hosts).waitForStatus(id, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, undefined, 'the recording was not affected');
    const info = await videoOf(task);
    const recorded = (stopAt - recordingFrom - (resumedAt - pausedAt)) / 1000;
    assert.ok(info.duration >= recorded - 1.5, `${info.duration} s of video, ${recorded.toFixed(1)} s recorded`);
    hosts.push(await startHost());
  });

  it('SIGKILL of a recorder mid-recording: the task ends finished, RecorderLost, with a video of the recorded time', async () => {
    const id = await startTask();
    await pick(hosts).waitForStatus(id, 'recording', 60_000);
    const recordingFrom = Date.now();
    await sleep(6000);
    const doomed = recorderOf(id);
    const killedAt = Date.now();
    await doomed.stop('SIGKILL');
    stopped.push(doomed.runMarker);
    recorders = recorders.filter((r) => r !== doomed);
    const task = await pick(hosts).waitForStatus(id, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, 'RecorderLost', JSON.stringify(task.Result));
    const info = await videoOf(task);
    const recorded = (killedAt - recordingFrom) / 1000;
    assert.ok(info.duration >= recorded - 1, `${info.duration} s of video, ${recorded.toFixed(1)} s recorded`);
    recorders.push(await startRecorder());
  });

  it('SIGKILL of a recorder right after it read a Start job, before it reported anything: another recorder records the task', async () => {
    // One recorder only, frozen while its blocking read is open: the job is delivered to it (pending
    // on its consumer in Redis) and it never gets to report it.
    for (const r of recorders) {
      await r.stop();
      stopped.push(r.runMarker);
    }
    const frozen = await startRecorder();
    recorders = [frozen];
    const redis = cluster.client();
    let id: string;
    for (let tries = 0; ; tries++) {
      assert.ok(tries < 5, 'the job reached the frozen recorder');
      frozen.child.kill('SIGSTOP');
      id = await startTask();
      const pendingOnFrozen = async () => {
        const rows = (await redis.xpending(keys.jobs('default'), JOBS_GROUP, '-', '+', 10, frozen.recorderId)) as unknown[];
        return rows.length > 0;
      };
      try {
        await waitFor(pendingOnFrozen, { timeoutMs: 500, intervalMs: 20, what: 'the job to be read' });
        break;
      } catch {
        // The read had just ended: let the recorder go on (it records this task), and try again.
        frozen.child.kill('SIGCONT');
        await pick(hosts).waitForStatus(id, 'recording', 60_000);
        await pick(hosts).api('Stop', { TaskID: id });
        await sleep(1500);
      }
    }
    await frozen.stop('SIGKILL');
    stopped.push(frozen.runMarker);
    recorders = [await startRecorder()];
    assert.equal((await pick(hosts).api('Describe', { TaskID: id })).Status, 'normal', 'nobody reported the job');
    await pick(hosts).waitForStatus(id, 'recording', 60_000);
    assert.equal(recorderOf(id), recorders[0], 'the new recorder took the job the dead one had read');
    await sleep(3000);
    assert.ok(!(await pick(hosts).api('Stop', { TaskID: id })).ErrorCode);
    const task = await pick(hosts).waitForStatus(id, 'finished', 60_000);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    const info = await videoOf(task);
    assert.ok(info.duration >= 2.5, `${info.duration} s`);
    recorders.push(await startRecorder());
  });

  it('every host restarted one after another while three recordings run: none lost, no process left behind', async () => {
    const ids = [await startTask(), await startTask(), await startTask()];
    await Promise.all(ids.map((id) => pick(hosts).waitForStatus(id, 'recording', 60_000)));
    const recordingFrom = Date.now();
    for (const old of [...hosts]) {
      await old.stop();
      stopped.push(old.runMarker);
      hosts = hosts.filter((h) => h !== old);
      hosts.push(await startHost());
      for (const id of ids) assert.equal((await pick(hosts).api('Describe', { TaskID: id })).Status, 'recording', 'recordings go on while runtime hosts restart');
    }
    // Commands still reach every task, through the new hosts.
    for (const id of ids) assert.ok(!(await viaNonOwner('Refresh', id)).answer.ErrorCode);
    const endedAt: Record<string, number> = {};
    for (const old of [...recorders]) {
      const fresh = await startRecorder();
      const held = ids.filter((id) => took(old, id));
      await old.stop();
      for (const id of held) endedAt[id] = Date.now();
      stopped.push(old.runMarker);
      recorders = recorders.filter((r) => r !== old).concat(fresh);
    }
    for (const id of ids) {
      const task = await pick(hosts).waitForStatus(id, 'finished', 60_000);
      // A recorder told to stop closes its recordings with what they hold.
      assert.equal(task.Result.ErrorCode, 'RecorderLost', JSON.stringify(task.Result));
      assert.match(task.Result.ErrorMessage, /recorder shut down/);
      const info = await videoOf(task);
      const recorded = (endedAt[id]! - recordingFrom) / 1000;
      assert.ok(info.duration >= recorded - 1, `${id}: ${info.duration} s of video, ${recorded.toFixed(1)} s recorded`);
    }
    for (const marker of stopped) assert.deepEqual(processesOf(marker), [], 'no process of a stopped host is left');
  });

  it('a host without CLUSTER_SECRET, or with another one, refuses to join and names the setting', async () => {
    for (const [secret, said] of [
      [undefined, /setting CLUSTER_SECRET is required: 3 other host\(s\) share this Redis in region default/],
      ['another-secret-of-another-cluster', /setting CLUSTER_SECRET differs from the one of host host-/],
    ] as const) {
      const env: Record<string, string> = { ...common(), ROLE: 'api' };
      if (secret) env.CLUSTER_SECRET = secret;
      else delete env.CLUSTER_SECRET;
      await assert.rejects(startService(env, { dataDir }), /service exited at start \(log: (.*)\)/);
      const logs = readdirSync(dataDir)
        .filter((f) => f.startsWith('service-'))
        .map((f) => readFileSync(join(dataDir, f), 'utf8'));
      assert.ok(
        logs.some((l) => said.test(l)),
        `a log says ${said}`,
      );
    }
    for (const h of hosts) assert.equal((await h.api('Describe', { TaskID: 'none' })).ErrorCode, 'TaskNotFound', 'the others go on');
  });
});
