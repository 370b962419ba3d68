// What each `webrecord` command does with the typed client. Answers the exit code: 0 done, 1 the
// service refused or the recording ended with an error (WebRecordError and a task's ErrorCode).
import { type StartInput, type WebRecordClient, WebRecordError } from '../client/index.js';
import type { DescribeView, TaskStatus } from '../protocol/task.js';
import type { Command, RecordOptions } from './args.js';
import { USAGE } from './args.js';
import { download } from './download.js';
import { listLine, progressLine } from './progress-line.js';

export type Terminal = {
  out: (line: string) => void;
  /** Rewrites the current status line (in place on a terminal, one line per change elsewhere). */
  status: (line: string) => void;
  /** Ends the status line. */
  done: () => void;
};

export type Clock = { sleep: (ms: number) => Promise<void>; now: () => number };

const POLL_MS = 1000;

export async function run(command: Command, client: WebRecordClient, term: Terminal, clock: Clock): Promise<number> {
  switch (command.name) {
    case 'help':
      term.out(USAGE);
      return 0;
    case 'start': {
      const { TaskID } = await client.start(startData(command.url, command.options));
      term.out(TaskID);
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'refresh':
    case 'stop':
      await client[command.name](command.taskId);
      return 0;
    case 'describe':
      term.out(JSON.stringify(await client.describe(command.taskId), null, 2));
      return 0;
    case 'watch':
      return outcome(await watch(client, command.taskId, term, clock), term);
    case 'list': {
      const tasks = await client.listTasks({ ...(command.limit !== undefined ? { Limit: command.limit } : {}), ...(command.status !== undefined ? { Status: command.status as TaskStatus } : {}) });
      for (const task of tasks) term.out(listLine(task));
      return 0;
    }
    case 'record': {
      const { TaskID } = await client.start(startData(command.url, command.options));
      term.out(`task ${TaskID}`);
      const recording = await watch(client, TaskID, term, clock, (v) => v.Status === 'recording' || v.Status === 'paused' || v.Status === 'finished');
      if (recording.Status !== 'finished') {
        const stopAt = clock.now() + command.seconds * 1000;
        await watch(client, TaskID, term, clock, (v) => v.Status === 'finished' || clock.now() >= stopAt);
        await client.stop(TaskID).catch(() => undefined); // it may have ended by itself meanwhile
      }
      const view = await watch(client, TaskID, term, clock);
      const code = outcome(view, term);
      const video = view.Result.Videos[0];
      if (code !== 0 || !video) return code || 1;
      const files = await download(video, command.out);
      term.out(`saved ${files[0]}${files.length > 1 ? ` and ${files.length - 1} segments beside it` : ''}`);
      return 0;
    }
  }
}

/** What a Start of `url` sends for these options. */
export function startData(url: string, o: RecordOptions): StartInput {
  return {
    RecordURL: url,
    ...(o.width !== undefined ? { Width: o.width } : {}),
    ...(o.height !== undefined ? { Height: o.height } : {}),
    ...(o.maxSeconds !== undefined ? { MaxDurationLimit: o.maxSeconds } : {}),
    ...(o.manualStart ? { ManualStart: true } : {}),
    ...(o.callback !== undefined ? { CallbackURL: o.callback } : {}),
    ...(o.hls ? { Output: { Video: { Muxer: 'hls' } } } : {}),
  } as StartInput;
}

/** Shows the task's progress until `until` holds (by default: it finished); answers its last view. */
async function watch(client: WebRecordClient, taskId: string, term: Terminal, clock: Clock, until = (v: DescribeView) => v.Status === 'finished'): Promise<DescribeView> {
  for (;;) {
    let view: DescribeView;
    try {
      view = await client.describe(taskId);
    } catch (err) {
      // The service's store away for a moment: waited out, as the client's own waitFor does.
      if (!(err instanceof WebRecordError && err.code === 'ServiceUnavailable')) throw err;
      term.status('(the service is briefly unavailable; waiting)');
      await clock.sleep(POLL_MS);
      continue;
    }
    term.status(progressLine(view));
    if (until(view)) {
      if (view.Status === 'finished') term.done();
      return view;
    }
    await clock.sleep(POLL_MS);
  }
}

function outcome(view: DescribeView, term: Terminal): number {
  if (!view.Result.ErrorCode) return 0;
  term.out(`the recording ended with ${view.Result.ErrorCode}: ${view.Result.ErrorMessage ?? ''}`);
  return 1;
}
