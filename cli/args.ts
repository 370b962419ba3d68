// The command line of `webrecord`, parsed: which command, its task or URL, and its options. Usage
// mistakes throw UsageError naming the argument at fault (exit code 2).
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export type RecordOptions = { width?: number; height?: number; hls: boolean; maxSeconds?: number; manualStart: boolean; callback?: string };

export type Command =
  | { name: 'help' }
  | { name: 'start'; url: string; options: RecordOptions }
  | { name: 'pause' | 'resume' | 'refresh' | 'stop' | 'describe' | 'watch'; taskId: string }
  | { name: 'record'; url: string; seconds: number; out: string; options: RecordOptions }
  | { name: 'list'; limit?: number; status?: string };

export const USAGE = `webrecord: record web pages with the recording service

  webrecord start URL [--width N] [--height N] [--hls] [--max SECONDS] [--manual-start] [--callback URL]
  webrecord pause|resume|refresh|stop TASK
  webrecord describe TASK           the task as JSON
  webrecord list [--limit N] [--status S]
                                    the newest tasks (20 unless told), one line each
  webrecord watch TASK              its status, recorded time, size and frame rate, until it finishes
  webrecord record URL --seconds N --out FILE [start's options]
                                    start, show progress, stop after N s, download (--hls: FILE is a folder)

The service: WEBRECORD_URL (default http://127.0.0.1:8080) or --service URL; signed with
WEBRECORD_KEY and WEBRECORD_SECRET when both are set.
Exit codes: 0 done; 1 the service refused, or the recording ended with an error; 2 a usage mistake;
3 the service could not be reached or answered something that is not the API.`;

const OPTIONS = {
  width: { type: 'string' },
  height: { type: 'string' },
  hls: { type: 'boolean' },
  max: { type: 'string' },
  'manual-start': { type: 'boolean' },
  callback: { type: 'string' },
  seconds: { type: 'string' },
  out: { type: 'string' },
  service: { type: 'string' },
  limit: { type: 'string' },
  status: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseCommand(argv: string[]): { command: Command; service?: string } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  const service = v.service;
  const [name, target, ...extra] = positionals;
  const withService = (command: Command) => (service === undefined ? { command } : { command, service });
  if (v.help || name === undefined || name === 'help') return withService({ name: 'help' });
  if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
  switch (name) {
    case 'start':
      return withService({ name, url: urlArg(target), options: recordOptions(v) });
    case 'record': {
      if (v.out === undefined) throw new UsageError('record needs --out FILE');
      return withService({ name, url: urlArg(target), seconds: positive('--seconds', v.seconds, true)!, out: v.out, options: recordOptions(v) });
    }
    case 'list': {
      if (target) throw new UsageError(`unexpected argument ${target}`);
      const limit = positive('--limit', v.limit);
      // The service checks the range and the status, and names the field.
      return withService({ name, ...(limit !== undefined ? { limit } : {}), ...(v.status !== undefined ? { status: v.status } : {}) });
    }
    case 'pause':
    case 'resume':
    case 'refresh':
    case 'stop':
    case 'describe':
    case 'watch':
      if (!target) throw new UsageError(`${name} needs a TASK (the TaskID Start answered)`);
      return withService({ name, taskId: target });
    default:
      throw new UsageError(`unknown command ${name} (start, pause, resume, refresh, stop, describe, watch, record, list)`);
  }
}

function urlArg(url: string | undefined): string {
  if (!url) throw new UsageError('a URL to record is needed');
  if (!URL.canParse(url)) throw new UsageError(`${url} is not a URL`);
  return url;
}

function recordOptions(v: { width?: string; height?: string; hls?: boolean; max?: string; 'manual-start'?: boolean; callback?: string }): RecordOptions {
  const width = positive('--width', v.width);
  const height = positive('--height', v.height);
  const maxSeconds = positive('--max', v.max);
  if (v.callback !== undefined && !URL.canParse(v.callback)) throw new UsageError(`--callback ${v.callback} is not a URL`);
  return {
    hls: !!v.hls,
    manualStart: !!v['manual-start'],
    ...(width !== undefined ? { width } : {}),
    ...(height !== undefined ? { height } : {}),
    ...(maxSeconds !== undefined ? { maxSeconds } : {}),
    ...(v.callback !== undefined ? { callback: v.callback } : {}),
  };
}

/** A whole number above 0; the service checks the ranges and names the field if one is out. */
function positive(flag: string, value: string | undefined, needed = false): number | undefined {
  if (value === undefined) {
    if (needed) throw new UsageError(`${flag} N is needed`);
    return undefined;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} ${value} is not a whole number above 0`);
  return n;
}
