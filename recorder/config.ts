import { join } from 'node:path';
import type { Marker } from '../lib/child-process.js';
import type { RedisTarget } from '../lib/redis-connect.js';
import type { UrlPolicy } from '../protocol/url-policy.js';
import type { RecordingCost } from './admission.js';
import type { BrowserIdentity } from './capture/browser-sandbox.js';
import type { StorageConfig } from './storage/destinations.js';

/** What the recorder tells the host's metrics (lib/metrics.ts). */
export type RecorderMetrics = {
  finished(muxer: string, seconds: number): void;
  upload(store: string, outcome: 'stored' | 'failed'): void;
};

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
  /** Where the recorded pages may connect (URL_ALLOWLIST beside the defaults of API.md). */
  urlPolicy: UrlPolicy;
  /** A recorder takes no job while less is free under DATA_DIR (MIN_FREE_DISK_MB). */
  minFreeDiskBytes: number;
  /** The cap on each recording browser's memory (RECORDING_MEMORY_MB), where cgroups can be made. */
  recordingMemoryBytes: number;
  /** Who each Chromium runs as, sandboxed or not (BROWSER_USER, CHROMIUM_NO_SANDBOX). */
  browserIdentity: BrowserIdentity;
  /** COS and VOD access (the local store needs none). */
  storage: StorageConfig;
  metrics?: RecorderMetrics;
};

export const dirs = (dataDir: string) => ({
  /** Intermediate recordings (StorageType "cfs"); may be a shared mount. */
  cfs: join(dataDir, 'cfs'),
  /** Files being made (scratch of ffmpeg, key info). */
  tmp: join(dataDir, 'tmp'),
  /** The local storage target, served at /files. */
  files: join(dataDir, 'files'),
  /** The key-wrapping key when none is configured. */
  kek: join(dataDir, 'secrets', 'key-wrap.key'),
});
