// One capture of one tab: started through the extension's service worker, then controlled over the
// WebSocket the offscreen document opened to us. Chunks go to the sink in arrival order.
import type { WebWorker } from 'puppeteer-core';
import type { WebSocket } from 'ws';
import type { ChunkSink } from '../sinks/chunk-sink.js';
import type { CaptureServer } from './capture-server.js';

export type CaptureOptions = {
  tabId: number;
  width: number;
  height: number;
  fps: number;
  /** How often (recorded ms) the capture says whether the picture changed; 0: never. */
  pictureSampleMs: number;
};

/** Sampled pictures: at recorded ms `at[i]`, whether the picture differed from the sample before. */
export type PictureSamples = { at: number[]; changed: number[] };

export type FirstFrame = { width: number; height: number; at: number };

type Control =
  { type: 'frame'; width: number; height: number; at: number } | { type: 'paused' | 'resumed' | 'stopped' } | ({ type: 'pictures' } & PictureSamples) | { type: 'error' | 'log'; message: string };

export class TabCapture {
  bytes = 0;
  readonly firstFrame: Promise<FirstFrame>;
  /** Resolves when the socket has closed and every chunk is in the sink; `clean` if the capture said it stopped. */
  readonly ended: Promise<{ clean: boolean }>;
  onMessage: (msg: { type: 'error' | 'log'; message: string }) => void = () => undefined;
  onPictures: (samples: PictureSamples) => void = () => undefined;

  private ws: WebSocket | null = null;
  private stoppedCleanly = false;
  private writes: Promise<void> = Promise.resolve();
  private resolveFrame!: (f: FirstFrame) => void;
  private resolveEnded!: (r: { clean: boolean }) => void;
  private acks = new Map<'paused' | 'resumed', () => void>();

  private constructor(private readonly sink: ChunkSink) {
    this.firstFrame = new Promise((r) => (this.resolveFrame = r));
    this.ended = new Promise((r) => (this.resolveEnded = r));
  }

  static async start(sw: WebWorker, server: CaptureServer, sink: ChunkSink, o: CaptureOptions): Promise<TabCapture> {
    const cap = new TabCapture(sink);
    const endpoint = server.expect((ws) => cap.attach(ws));
    try {
      await sw.evaluate((opts) => (globalThis as unknown as { startCapture(o: unknown): Promise<unknown> }).startCapture(opts), {
        tabId: o.tabId,
        wsUrl: endpoint.url,
        width: o.width,
        height: o.height,
        fps: o.fps,
        pictureSampleMs: o.pictureSampleMs,
        mimeType: 'video/x-matroska;codecs=avc1,opus',
        videoBitsPerSecond: videoBitrate(o.width, o.height),
        audioBitsPerSecond: 128_000,
        keyFrameIntervalMs: 2000,
        timesliceMs: 500, // a chunk every half second: at most that much is in flight when a recorder dies
      });
    } catch (err) {
      endpoint.cancel();
      throw err;
    }
    if (!cap.ws) throw new Error('the capture started but never connected');
    return cap;
  }

  pause(): Promise<void> {
    return this.command('pause', 'paused');
  }

  resume(): Promise<void> {
    return this.command('resume', 'resumed');
  }

  /** Ends the capture and waits until the last chunk is in the sink. */
  async stop(timeoutMs = 10_000): Promise<{ clean: boolean }> {
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.ws?.terminate(), timeoutMs);
    const r = await this.ended;
    clearTimeout(timer);
    return r;
  }

  private attach(ws: WebSocket): void {
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.bytes += data.length;
        this.writes = this.writes.then(() => this.sink.write(data));
        return;
      }
      let msg: Control;
      try {
        msg = JSON.parse(data.toString('utf8')) as Control;
      } catch {
        return;
      }
      if (msg.type === 'frame') this.resolveFrame({ width: msg.width, height: msg.height, at: msg.at });
      else if (msg.type === 'paused' || msg.type === 'resumed') this.acks.get(msg.type)?.();
      else if (msg.type === 'stopped') this.stoppedCleanly = true;
      else if (msg.type === 'pictures') {
        if (Array.isArray(msg.at) && Array.isArray(msg.changed)) this.onPictures({ at: msg.at, changed: msg.changed });
      } else if (msg.type === 'error' || msg.type === 'log') this.onMessage(msg);
    });
    ws.on('close', () => {
      void this.writes.then(
        () => this.resolveEnded({ clean: this.stoppedCleanly }),
        (err) => {
          this.onMessage({ type: 'error', message: `writing a chunk failed: ${String(err)}` });
          this.resolveEnded({ clean: false });
        },
      );
    });
  }

  private send(msg: { type: 'pause' | 'resume' | 'stop' }): void {
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private command(type: 'pause' | 'resume', ack: 'paused' | 'resumed'): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(ack);
        reject(new Error(`the capture did not confirm ${type} within 5 s`));
      }, 5000);
      this.acks.set(ack, () => {
        clearTimeout(timer);
        this.acks.delete(ack);
        resolve();
      });
      this.send({ type });
    });
  }
}

/** About 0.15 bits per pixel at 30 fps (4 Mb/s at 1280×720), within [1, 16] Mb/s. */
export function videoBitrate(width: number, height: number): number {
  return Math.round(Math.min(16e6, Math.max(1e6, width * height * 30 * 0.15)));
}
