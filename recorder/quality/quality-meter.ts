// The quality report of one recording, measured while it records from what passes anyway: the
// stream's frame timing (a sink beside the intermediate file), the capture's picture samples, the
// live ffmpeg's silence marks, and what the session saw happen to the page.
import type { VideoQuality } from '../../protocol/task.js';
import type { PictureSamples } from '../capture/tab-capture.js';
import type { ChunkSink } from '../sinks/chunk-sink.js';
import { FrameTiming } from './frame-timing.js';
import { MatroskaBlocks } from './matroska-blocks.js';
import { Silences } from './silences.js';
import { StillPictures } from './still-pictures.js';

/** Warnings kept for the report: the task keeps them all; a report keeps the first few. */
const MAX_WARNINGS = 20;

export class QualityMeter implements ChunkSink {
  private readonly timing = new FrameTiming();
  private readonly blocks = new MatroskaBlocks((b) => {
    if (b.kind === 'video') this.timing.add(b.time);
  });
  private readonly pictures = new StillPictures();
  private readonly silences = new Silences();
  private crashes = 0;
  private reloads = 0;
  private readonly warnings: string[] = [];

  async write(chunk: Buffer): Promise<void> {
    // A reader's bug must not reach the recording: the report only loses its frame figures.
    try {
      this.blocks.push(chunk);
    } catch (err) {
      this.blocks.failed = `reading the stream failed: ${String(err)}`;
    }
  }

  async close(): Promise<void> {}

  picturesSampled(samples: PictureSamples): void {
    this.pictures.add(samples);
  }

  /** A line of the live ffmpeg's silence marks. */
  silenceLine(line: string): void {
    this.silences.line(line);
  }

  crashed(): void {
    this.crashes++;
  }

  reloaded(): void {
    this.reloads++;
  }

  warned(message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(message);
  }

  /**
   * The report for a video of `durationS` seconds. `silenceHeard`: whether the live ffmpeg ran to the
   * end (it finds the silences; made again from the intermediate file, the silences are not known).
   */
  report(durationS: number, silenceHeard: boolean): VideoQuality {
    const frames = this.blocks.failed ? null : this.timing.frames;
    return {
      Fps: frames === null || durationS <= 0 ? null : Math.round((frames / durationS) * 100) / 100,
      LongestFrameGap: frames === null ? null : Math.round(this.timing.longestGap * 1000) / 1000,
      Frozen: this.pictures.samples > 0 ? this.pictures.report(durationS) : null,
      Silent: silenceHeard ? this.silences.report(durationS) : null,
      Crashes: this.crashes,
      Reloads: this.reloads,
      Warnings: [...this.warnings],
    };
  }
}
