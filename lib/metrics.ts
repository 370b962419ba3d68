// What a host tells Prometheus at /metrics (prom-client). One registry per process; the rooms report
// through the small hooks below (the edge's requests, the recorder's recordings, the runtime's
// callbacks) and the gauges read their sources when scraped, so nothing is counted twice or kept
// beside the state it describes.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export type RecorderGauges = {
  /** Recordings running now, and the recorder's slots left. */
  recordings(): number;
  slotsFree(): number;
  /** Each running recording's captured frames per second and CPU (cores), by TaskID. */
  perRecording(): { taskId: string; fps: number | null; cpuCores: number | null }[];
};

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'action' | 'code'>;
  private readonly latency: Histogram<'action'>;
  private readonly stopToFinished: Histogram<'muxer'>;
  private readonly callbacks: Counter<'outcome'>;
  private readonly uploads: Counter<'store' | 'outcome'>;
  private readonly recorders: RecorderGauges[] = [];
  private queue: (() => Promise<{ waiting: number | null; taken: number }>) | null = null;
  private tasks: (() => Promise<Map<string, number>>) | null = null;

  constructor(labels: Record<string, string> = {}) {
    const registers = [this.registry];
    this.registry.setDefaultLabels(labels);
    collectDefaultMetrics({ register: this.registry, prefix: 'webrecord_' });
    this.requests = new Counter({ name: 'webrecord_api_requests_total', help: 'API requests by Action and ErrorCode (OK when none)', labelNames: ['action', 'code'], registers });
    this.latency = new Histogram({
      name: 'webrecord_api_request_seconds',
      help: 'API request latency by Action',
      labelNames: ['action'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.stopToFinished = new Histogram({
      name: 'webrecord_stop_to_finished_seconds',
      help: "From a recording's Stop to its result reported, by muxer",
      labelNames: ['muxer'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.callbacks = new Counter({
      name: 'webrecord_callback_tries_total',
      help: 'Callback tries by outcome (delivered, failed: tried again until CALLBACK_MAX_TRIES)',
      labelNames: ['outcome'],
      registers,
    });
    this.uploads = new Counter({ name: 'webrecord_uploads_total', help: 'Outputs stored by store (local, cos, vod) and outcome (stored, failed)', labelNames: ['store', 'outcome'], registers });
    const sources = this.recorders;
    // Read when scraped: set (setQueue, setTasks) after the gauges are made.
    const queue = () => this.queue;
    const tasks = () => this.tasks;
    new Gauge({
      name: 'webrecord_queue_jobs',
      help: "The region's Start jobs: waiting for a recorder, or taken and being started (the same on every API host)",
      labelNames: ['state'],
      registers,
      async collect() {
        const read = queue();
        if (!read) return;
        const q = await read().catch(() => null); // the store away: no figure rather than a failed scrape
        this.reset();
        if (!q) return;
        if (q.waiting !== null) this.set({ state: 'waiting' }, q.waiting);
        this.set({ state: 'taken' }, q.taken);
      },
    });
    new Gauge({
      name: 'webrecord_tasks',
      help: "Unfinished tasks by status, all of the region's (the same on every API host); finished ones are in Describe until they expire",
      labelNames: ['status'],
      registers,
      async collect() {
        const read = tasks();
        if (!read) return;
        const counts = await read().catch(() => null);
        this.reset();
        if (!counts) return;
        for (const [status, n] of counts) if (n > 0) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'webrecord_recordings',
      help: 'Recordings running on this host',
      registers,
      collect() {
        this.set(sources.reduce((n, r) => n + r.recordings(), 0));
      },
    });
    new Gauge({
      name: 'webrecord_recorder_slots_free',
      help: "Recordings this host's recorder could still take (RECORDER_SLOTS less those running)",
      registers,
      collect() {
        this.set(sources.reduce((n, r) => n + r.slotsFree(), 0));
      },
    });
    new Gauge({
      name: 'webrecord_recording_fps',
      help: 'Frames per second each running recording captured over its last window',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const r of sources) for (const p of r.perRecording()) if (p.fps !== null) this.set({ task: p.taskId }, p.fps);
      },
    });
    new Gauge({
      name: 'webrecord_recording_cpu_cores',
      help: 'CPU each running recording uses (its browser and ffmpeg), in cores',
      labelNames: ['task'],
      registers,
      collect() {
        this.reset();
        for (const r of sources) for (const p of r.perRecording()) if (p.cpuCores !== null) this.set({ task: p.taskId }, p.cpuCores);
      },
    });
  }

  /** The region's Start queue, read when scraped (API hosts). */
  setQueue(read: () => Promise<{ waiting: number | null; taken: number }>): void {
    this.queue = read;
  }

  /** The region's unfinished tasks by status, read when scraped (API hosts). */
  setTasks(read: () => Promise<Map<string, number>>): void {
    this.tasks = read;
  }

  /** An answered API request (the edge's hook). */
  request(action: string, code: string, seconds: number): void {
    this.requests.inc({ action, code });
    this.latency.observe({ action }, seconds);
  }

  finished(muxer: string, seconds: number): void {
    this.stopToFinished.observe({ muxer }, seconds);
  }

  callback(outcome: 'delivered' | 'failed'): void {
    this.callbacks.inc({ outcome });
  }

  upload(store: string, outcome: 'stored' | 'failed'): void {
    this.uploads.inc({ store, outcome });
  }

  addRecorder(source: RecorderGauges): void {
    this.recorders.push(source);
  }

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
