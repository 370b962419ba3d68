// One chunk to several sinks. The first (the intermediate file) is awaited: a chunk counts as
// recorded once it is there. The others take their copy without holding the capture up.
import type { ChunkSink } from './chunk-sink.js';

export class FanOut implements ChunkSink {
  constructor(
    private readonly primary: ChunkSink,
    private readonly others: ChunkSink[],
  ) {}

  async write(chunk: Buffer): Promise<void> {
    for (const s of this.others) void s.write(chunk);
    await this.primary.write(chunk);
  }

  async close(): Promise<void> {
    await this.primary.close();
  }
}
