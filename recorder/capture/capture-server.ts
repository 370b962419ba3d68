// The recorder's WebSocket endpoint on 127.0.0.1 that capture extensions stream into. Each capture
// connects to /capture/<key> with a key handed out by expect(); anything else is refused.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export type CaptureConnectionHandler = (ws: WebSocket) => void;

export class CaptureServer {
  private readonly waiting = new Map<string, CaptureConnectionHandler>();
  private wss: WebSocketServer | null = null;
  private port = 0;

  async start(): Promise<void> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 256 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    this.port = (wss.address() as AddressInfo).port;
    wss.on('connection', (ws, req) => {
      const key = /^\/capture\/([a-f0-9]{32})$/.exec(req.url ?? '')?.[1];
      const handler = key ? this.waiting.get(key) : undefined;
      if (!key || !handler) {
        ws.close(1008, 'unknown capture');
        return;
      }
      this.waiting.delete(key);
      handler(ws);
    });
    this.wss = wss;
  }

  /** Where captures connect (let through the browser's egress proxy unchecked). */
  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A URL that one capture may connect to; `onConnect` receives its socket. */
  expect(onConnect: CaptureConnectionHandler): { url: string; cancel(): void } {
    const key = randomBytes(16).toString('hex');
    this.waiting.set(key, onConnect);
    return { url: `ws://127.0.0.1:${this.port}/capture/${key}`, cancel: () => this.waiting.delete(key) };
  }

  async stop(): Promise<void> {
    const wss = this.wss;
    this.wss = null;
    if (!wss) return;
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}
