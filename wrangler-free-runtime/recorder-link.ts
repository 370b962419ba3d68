// The runtime's end of the recorder channels: Start jobs into the region's job stream (read by
// recorders through a consumer group, so load balances itself) and commands into the stream of the
// recorder that holds the task.
import type { Redis } from 'ioredis';
import { keys } from '../protocol/keys.js';
import type { RecorderCommand, StartJob } from '../protocol/recorder.js';
import { addJson } from '../lib/streams.js';

export class RecorderLink {
  constructor(
    private readonly redis: Redis,
    private readonly region: string,
  ) {}

  async enqueueStart(job: StartJob): Promise<void> {
    await addJson(this.redis, keys.jobs(this.region), job);
  }

  async commandRecorder(recorderId: string, command: RecorderCommand): Promise<void> {
    await addJson(this.redis, keys.recorderCommands(recorderId), command, 1000);
  }

  /** Recorders that heartbeated recently. */
  async liveRecorders(): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', keys.recorderHeartbeat(this.region, '*'), 'COUNT', 200);
      cursor = next;
      found.push(...batch.map((k) => k.slice(k.lastIndexOf(':') + 1)));
    } while (cursor !== '0');
    return found;
  }
}
