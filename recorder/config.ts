import { join } from 'node:path';
import type { Marker } from '../lib/child-process.js';
import type { RedisTarget } from '../lib/redis-connect.js';
import type { RecordingCost } from './admission.js';

export type RecorderConfig = {
  redis: RedisTarget;
  /** The service version, told in heartbeats. */
  version: string;
  region: string;
  recorderId: string;
  /** Hard cap on recordings at once; more Start jobs wait in the stream. */
  slots: number;
  /** Browsers kept launched and ready (0: each launched on Start). */
  browserPool: number;
  /**
   * What one recording is expected to use; a job is taken only while the machine has that free.
   * With `measured`, `cores` is the first guess, then learnt from the recordings here.
   */
  recordingCost: RecordingCost;
  /** Captured fps under which a recording warns (0: never). */
  fpsWarningBelow: number;
  dataDir: string;
  publicUrl: string;
  chromiumPath: string;
  /** Extra flags for every Chromium. */
  chromiumFlags: string[];
  ffmpegPath: string;
  ffprobePath: string;
  /** Environment marker of every process this recorder starts. */
  marker: Marker;
  hlsSegmentSeconds: number;
  /** Opens the sealed HLS keys of Start requests. */
  kek: Buffer;
};

export const dirs = (dataDir: string) => ({
  /** Intermediate recordings (StorageType "cfs"); may be a shared mount. */
  cfs: join(dataDir, 'cfs'),
  /** Browser profiles and files being made. */
  tmp: join(dataDir, 'tmp'),
  /** The local storage target, served at /files. */
  files: join(dataDir, 'files'),
  /** The key-wrapping key when none is configured. */
  kek: join(dataDir, 'secrets', 'key-wrap.key'),
});
