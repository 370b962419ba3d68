// A typed client of the recording API (../shared/API.md): every Action, signed like the original
// product's client when a key pair is given. Web-standard (fetch, WebCrypto): Node, browsers, workers.
import type { Action, StartData } from '../protocol/api.js';
import type { ListTasksData, RecorderView } from '../protocol/listing.js';
import type { DescribeView, TaskStatus } from '../protocol/task.js';
import { type Credentials, signedHeaders } from './sign.js';

export type ClientOptions = {
  /** Where the service answers, e.g. `https://record.example.com` (a path on it is kept). */
  url: string;
  /** The endpoint's path: `/record` by default; the original product's clients use `/release/record`. */
  path?: string;
  /** ApiAppKey and ApiAppSecret; without them requests go unsigned (a service in open mode). */
  credentials?: Credentials;
  /** Another fetch (a proxy, a private CA). */
  fetch?: typeof fetch;
  /** Per request (default 30 s). */
  timeoutMs?: number;
};

/** An answer in the envelope: RequestID always, ErrorCode and ErrorMessage on errors. */
export type Answer = { RequestID: string; ErrorCode?: string; ErrorMessage?: string } & Record<string, unknown>;

export class WebRecordError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string,
    /** The HTTP status (200 for most errors: the original's clients read ErrorCode). */
    readonly status: number,
  ) {
    super(`${code}: ${message}`);
    this.name = 'WebRecordError';
  }
}

/** What a Start takes: API.md's `Data` (numbers may also be given as strings, as the original allowed). */
export type StartInput = StartData;

export class WebRecordClient {
  private readonly endpoint: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    const base = opts.url.replace(/\/+$/, '');
    this.endpoint = base + (opts.path ?? '/record');
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends one Action and answers the envelope as it came, errors included (never throws on ErrorCode). */
  async call(action: Action, data?: unknown): Promise<{ status: number; answer: Answer }> {
    const body = JSON.stringify(data === undefined ? { Action: action } : { Action: action, Data: data });
    const headers = this.opts.credentials ? await signedHeaders(this.opts.credentials, new URL(this.endpoint).pathname, body) : { 'Content-Type': 'application/json', Accept: 'application/json' };
    const res = await this.fetch(this.endpoint, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let answer: Answer;
    try {
      answer = JSON.parse(text) as Answer;
    } catch {
      throw new WebRecordError('BadAnswer', `HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, '', res.status);
    }
    return { status: res.status, answer };
  }

  /** Starts a recording; answers its TaskID. With a RecordId already used, the first task's TaskID and `existed`. */
  async start(data: StartInput): Promise<{ TaskID: string; existed: boolean }> {
    const r = await this.call('Start', data);
    if (r.answer.ErrorCode === 'TaskExist' && typeof r.answer.TaskID === 'string') return { TaskID: r.answer.TaskID, existed: true };
    return { TaskID: this.ok(r).TaskID as string, existed: false };
  }

  pause(taskId: string): Promise<void> {
    return this.command('Pause', taskId);
  }
  resume(taskId: string): Promise<void> {
    return this.command('Resume', taskId);
  }
  refresh(taskId: string): Promise<void> {
    return this.command('Refresh', taskId);
  }
  stop(taskId: string): Promise<void> {
    return this.command('Stop', taskId);
  }

  async describe(taskId: string): Promise<DescribeView> {
    const { RequestID: _, ...view } = this.ok(await this.call('Describe', { TaskID: taskId }));
    return view as unknown as DescribeView;
  }

  /** The newest tasks, newest first (ListTasks: `Limit` 1..100, default 20; only those of `Status`, if given). */
  async listTasks(query: ListTasksData = {}): Promise<DescribeView[]> {
    return this.ok(await this.call('ListTasks', query)).Tasks as DescribeView[];
  }

  /** The live recorders, their slots and measured load (DescribeRecorders). */
  async describeRecorders(): Promise<RecorderView[]> {
    return this.ok(await this.call('DescribeRecorders', {})).Recorders as RecorderView[];
  }

  /**
   * Describes the task until its Status is one of `statuses`; throws after `timeoutMs`. A
   * ServiceUnavailable answer (the service's store away for a moment) is waited out like any other.
   */
  async waitFor(taskId: string, statuses: TaskStatus | TaskStatus[], opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<DescribeView> {
    const want = Array.isArray(statuses) ? statuses : [statuses];
    const until = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      let view: DescribeView | null = null;
      try {
        view = await this.describe(taskId);
      } catch (err) {
        if (!(err instanceof WebRecordError && err.code === 'ServiceUnavailable') || Date.now() > until) throw err;
      }
      if (view && want.includes(view.Status)) return view;
      if (Date.now() > until) throw new Error(`task ${taskId} is ${view?.Status}, not ${want.join(' or ')}, after ${opts.timeoutMs ?? 60_000} ms`);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
    }
  }

  private async command(action: 'Pause' | 'Resume' | 'Refresh' | 'Stop', taskId: string): Promise<void> {
    this.ok(await this.call(action, { TaskID: taskId }));
  }

  private ok(r: { status?: number; answer: Answer }): Answer {
    if (r.answer.ErrorCode) throw new WebRecordError(r.answer.ErrorCode, r.answer.ErrorMessage ?? '', r.answer.RequestID, r.status ?? 200);
    return r.answer;
  }
}
