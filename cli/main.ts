// `webrecord`: the recording service from a terminal. The service's URL and key pair come from the
// environment (WEBRECORD_URL, WEBRECORD_KEY, WEBRECORD_SECRET); exit codes are in args.ts's USAGE.
import { WebRecordClient, WebRecordError } from '../client/index.js';
import { parseCommand, USAGE, UsageError } from './args.js';
import { type Clock, run, type Terminal } from './commands.js';

const DEFAULT_SERVICE = 'http://127.0.0.1:8080';

function terminal(): Terminal {
  const tty = process.stderr.isTTY;
  let last = '';
  return {
    out: (line) => {
      if (tty && last) process.stderr.write('\n');
      last = '';
      process.stdout.write(`${line}\n`);
    },
    status: (line) => {
      if (line === last) return;
      // On a terminal the line is rewritten in place; in a log each change is a line.
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      last = line;
    },
    done: () => {
      if (tty && last) process.stderr.write('\n');
      last = '';
    },
  };
}

const clock: Clock = { sleep: (ms) => new Promise((r) => setTimeout(r, ms)), now: () => Date.now() };

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed;
  try {
    parsed = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`webrecord: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  const url = parsed.service ?? env.WEBRECORD_URL ?? DEFAULT_SERVICE;
  if (!URL.canParse(url)) {
    process.stderr.write(`webrecord: ${parsed.service !== undefined ? '--service' : 'WEBRECORD_URL'} ${url} is not a URL\n`);
    return 2;
  }
  const key = env.WEBRECORD_KEY;
  const secret = env.WEBRECORD_SECRET;
  if (!!key !== !!secret) {
    process.stderr.write(`webrecord: ${key ? 'WEBRECORD_SECRET' : 'WEBRECORD_KEY'} is missing: set both or neither\n`);
    return 2;
  }
  const client = new WebRecordClient({ url, ...(key && secret ? { credentials: { key, secret } } : {}) });
  const term = terminal();
  try {
    return await run(parsed.command, client, term, clock);
  } catch (err) {
    term.done();
    if (err instanceof WebRecordError && err.code !== 'BadAnswer') {
      process.stderr.write(`webrecord: ${err.message}${err.requestId ? ` (RequestID ${err.requestId})` : ''}\n`);
      return 1;
    }
    process.stderr.write(`webrecord: ${url}: ${describe(err)}\n`);
    return 3;
  }
}

function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return [e.message, e.cause?.code ?? e.cause?.message].filter(Boolean).join(': ');
}
