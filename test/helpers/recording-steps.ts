// The steps of a recording test on one service: start, command, wait for the finished video (and
// that the task left no process), check the file, find a task's Chromium processes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { analyse } from './media.js';
import { type PageServer, startPageServer } from './pages.js';
import { type Answer, processesOfTask, type RunningService, startService } from './service.js';
import { waitFor } from './wait.js';

export function recordingSteps(service: () => RunningService) {
  async function start(data: Record<string, unknown>): Promise<string> {
    const a = await service().api('Start', data);
    assert.equal(a.ErrorCode, undefined, JSON.stringify(a));
    assert.match(a.TaskID, /^default-[0-9a-f-]{36}$/);
    return a.TaskID as string;
  }

  async function ok(action: string, taskId: string): Promise<void> {
    const a = await service().api(action, { TaskID: taskId });
    assert.equal(a.ErrorCode, undefined, `${action}: ${JSON.stringify(a)}`);
    assert.equal(a.TaskID, taskId);
  }

  /** Waits for `finished`, checks the task left no process behind, downloads its one video. */
  async function finishedVideo(taskId: string, timeoutMs = 60_000): Promise<{ task: Answer; file: string }> {
    const task = await service().waitForStatus(taskId, 'finished', timeoutMs);
    assert.equal(task.Result.ErrorCode, undefined, JSON.stringify(task.Result));
    assert.equal(task.Result.Videos.length, 1);
    const v = task.Result.Videos[0];
    assert.match(v.FileURL, new RegExp(`^${service().url}/files/${taskId}/\\d+\\.mp4$`));
    assert.equal(v.Filename, v.FileURL.split('/').pop());
    const res = await fetch(v.FileURL);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, v.FileSize, 'FileSize is the size of the file served');
    const file = join(service().dataDir, `${taskId}.mp4`);
    writeFileSync(file, bytes);
    await waitFor(() => processesOfTask(service().logFile, taskId).length === 0, { timeoutMs: 5000, what: `no processes left of task ${taskId}` });
    return { task, file };
  }

  function assertVideo(file: string, reported: number, want: { width: number; height: number; duration: number; tolerance?: number }) {
    const a = analyse(file);
    assert.equal(a.info.video?.codec, 'h264');
    assert.equal(a.info.video?.width, want.width);
    assert.equal(a.info.video?.height, want.height);
    assert.equal(a.info.audio?.codec, 'aac');
    assert.ok(Math.abs(a.info.duration - want.duration) <= (want.tolerance ?? 0.5), `duration ${a.info.duration} s, want ${want.duration} ± ${want.tolerance ?? 0.5}`);
    assert.ok(Math.abs(reported - a.info.duration) < 0.05, `FileDuration ${reported} is the file's ${a.info.duration}`);
    assert.ok(a.meanVolumeDb > -40, `audio is not silent (mean ${a.meanVolumeDb} dB)`);
    return a;
  }

  /** Chromium processes of a task whose command line passes `test`. */
  function chromiumOf(taskId: string, test: (args: string) => boolean): number[] {
    return processesOfTask(service().logFile, taskId).filter((pid) => {
      try {
        // Chromium's children rewrite their command line as one space-joined string.
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return /^\S*chromium\s/.test(cmd) && test(cmd);
      } catch {
        return false;
      }
    });
  }

  return { start, ok, finishedVideo, assertVideo, chromiumOf };
}

/**
 * A test file's service (the embedded default, with `env`) and page server, started before its
 * tests and stopped after them, with the recording steps on that service.
 */
export function recordingFile(env: Record<string, string>) {
  const on = {} as { svc: RunningService; pages: PageServer };
  before(async () => {
    on.pages = await startPageServer();
    on.svc = await startService(env);
  });
  after(async () => {
    await on.svc?.stop();
    await on.pages?.close();
  });
  return { on, ...recordingSteps(() => on.svc) };
}
