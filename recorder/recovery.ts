// Finishing a task whose recorder was lost: the output is made from what the earlier attempts wrote
// to the intermediate directory (cfs, possibly a shared mount) and published by the same finishing
// path a session ends on.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Marker } from '../lib/child-process.js';
import type { Logger } from '../lib/logger.js';
import { TaskErrorCode } from '../protocol/errors.js';
import type { StartJob } from '../protocol/recorder.js';
import type { TaskEvents } from './channel.js';
import { dirs, type RecorderConfig } from './config.js';
import { completeOutput, failed, type FinishDeps, intermediateDir, reportResult } from './finishing.js';
import { planOutput } from './outputs/plan.js';
import type { Destinations } from './storage/destinations.js';

export class Recovery {
  private readonly log: Logger;

  constructor(
    private readonly job: StartJob,
    private readonly d: { config: RecorderConfig; events: TaskEvents; destinations: Destinations; marker: Marker; log: Logger },
  ) {
    this.log = d.log.child({ taskId: job.TaskID, attempt: job.attempt, mode: 'recover' });
  }

  get taskId(): string {
    return this.job.TaskID;
  }

  /** Nothing to stop or pause: it only finishes a file. */
  command(): void {}
  shutdown(): void {}

  async run(): Promise<void> {
    const { config, events, destinations, marker } = this.d;
    const { TaskID } = this.job;
    const finishing: FinishDeps = { config, events, marker, log: this.log };
    try {
      const files = await recordedFiles(intermediateDir(config, TaskID));
      this.log.info({ files }, 'finishing a task from its intermediate files');
      if (!files.length) {
        await failed(events, TaskErrorCode.RecorderLost, 'the recorder was lost before anything was recorded');
        return;
      }
      // Partial outputs of the lost attempt are not trusted: start clean.
      await removeTmp(dirs(config.dataDir).tmp, TaskID);
      const output = await planOutput(this.job, { config, destinations, marker });
      const videos = await completeOutput(finishing, TaskID, output, null, files);
      if (videos) await reportResult(finishing, TaskID, videos, null);
    } catch (err) {
      this.log.error({ err: String(err) }, 'recovery failed');
      await failed(events, TaskErrorCode.RecordFailed, `finishing the recording failed: ${(err as Error).message}`);
    }
  }
}

/** The non-empty intermediate files, in attempt order. */
async function recordedFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+\.mkv$/.test(n));
  names.sort((a, b) => parseInt(a) - parseInt(b));
  const sized = await Promise.all(names.map(async (n) => ({ path: join(dir, n), size: (await stat(join(dir, n))).size })));
  return sized.filter((f) => f.size > 0).map((f) => f.path);
}

async function removeTmp(tmpDir: string, taskId: string): Promise<void> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${taskId}-`)).map((n) => rm(join(tmpDir, n), { force: true, recursive: true })));
}
