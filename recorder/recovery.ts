// Finishing a task whose recorder was lost: the output is made from what the earlier attempts wrote
// to the intermediate directory (cfs, possibly a shared mount) or, with StorageType "cos", sent up to
// the bucket (whichever holds more of each attempt: a recorder restarted on its own DATA_DIR still
// has the last second), and published by the same finishing path a session ends on.
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
import { rebuildRaw, type RawChunks } from './storage/raw-chunks.js';

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
    const finishing: FinishDeps = { config, events, marker, log: this.log, storeKind: destinations.kindOf(this.job.request) };
    try {
      // Partial outputs of the lost attempt are not trusted: start clean.
      await removeTmp(dirs(config.dataDir).tmp, TaskID);
      const raw = destinations.raw(TaskID, this.job.request);
      const local = await recordedFiles(intermediateDir(config, TaskID));
      const files = raw ? await this.withRaw(raw, local) : [...local.values()].map((f) => f.path);
      this.log.info({ files }, 'finishing a task from its intermediate files');
      if (!files.length) {
        await failed(events, TaskErrorCode.RecorderLost, 'the recorder was lost before anything was recorded');
        return;
      }
      if (raw) finishing.raw = { chunks: raw, settled: Promise.resolve() };
      const output = await planOutput(this.job, { config, destinations, marker });
      const videos = await completeOutput(finishing, TaskID, output, null, files);
      if (videos) await reportResult(finishing, TaskID, output, videos, null);
    } catch (err) {
      this.log.error({ err: String(err) }, 'recovery failed');
      await failed(events, TaskErrorCode.RecordFailed, `finishing the recording failed: ${(err as Error).message}`);
    } finally {
      // The bucket still holds what was rebuilt here, until the result is safe.
      await rm(this.rebuiltDir, { recursive: true, force: true });
    }
  }

  private get rebuiltDir(): string {
    return join(dirs(this.d.config.dataDir).tmp, `${this.job.TaskID}-rebuilt`);
  }

  /** Each attempt's file from the bucket, or the local one where that holds at least as much; in attempt order. */
  private async withRaw(raw: RawChunks, local: Map<number, Sized>): Promise<string[]> {
    const { files, gaps } = await rebuildRaw(raw, this.rebuiltDir);
    if (gaps.length) this.log.warn({ attempts: gaps }, 'the raw chunks of some attempts have a gap: they are used up to it');
    const attempts = [...new Set([...files.keys(), ...local.keys()])].sort((a, b) => a - b);
    const chosen: string[] = [];
    for (const a of attempts) {
      const fromRaw = files.get(a);
      const rawSize = fromRaw ? (await stat(fromRaw)).size : 0;
      const here = local.get(a);
      chosen.push(here && here.size >= rawSize ? here.path : fromRaw!);
    }
    return chosen;
  }
}

type Sized = { path: string; size: number };

/** The non-empty intermediate files, by attempt. */
async function recordedFiles(dir: string): Promise<Map<number, Sized>> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d+\.mkv$/.test(n));
  const sized = await Promise.all(names.map(async (n) => ({ attempt: parseInt(n), path: join(dir, n), size: (await stat(join(dir, n))).size })));
  return new Map(
    sized
      .filter((f) => f.size > 0)
      .sort((a, b) => a.attempt - b.attempt)
      .map((f) => [f.attempt, { path: f.path, size: f.size }]),
  );
}

async function removeTmp(tmpDir: string, taskId: string): Promise<void> {
  const names = await readdir(tmpDir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => n.startsWith(`${taskId}-`)).map((n) => rm(join(tmpDir, n), { force: true, recursive: true })));
}
