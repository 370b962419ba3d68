// Which store a task's output goes to: VOD when the Start asked for it (Output.Vod), COS when it
// named a bucket (Output.Cos) or the deployment has a default one (COS_BUCKET), else local disk.
import type { Logger } from '../../lib/logger.js';
import type { StoredRequest } from '../../protocol/api.js';
import { rawPlaceOf } from '../../protocol/raw-place.js';
import { type CosAccess, CosStore } from './cos-store.js';
import { LocalStore, localDestination } from './local.js';
import type { RawChunks } from './raw-chunks.js';
import type { Destination, Published } from './target.js';
import { type VodAccess, vodDestination } from './vod.js';

export type StorageConfig = {
  /** COS credentials and endpoint, with the deployment's default bucket; null: no COS. */
  cos: (CosAccess & { bucket?: string; region?: string; rawBucket?: string }) | null;
  vod: VodAccess | null;
};

export class Destinations {
  constructor(
    readonly local: LocalStore,
    private readonly config: StorageConfig,
    private readonly log: Logger,
  ) {}

  /** Opens where the task's output goes; `mediaName` is the main file's name (VOD's MediaName default). */
  async open(taskId: string, request: StoredRequest, mediaType: 'mp4' | 'm3u8', mediaName: string): Promise<Destination> {
    const { cos, vod } = this.config;
    if (request.Output.Vod) {
      if (!vod) throw new Error('Data.Output.Vod needs VOD credentials on this recorder (VOD_SECRET_ID and VOD_SECRET_KEY, or the COS ones)');
      return vodDestination(request, mediaType, mediaName, vod, this.log);
    }
    const asked = request.Output.Cos;
    if (asked && !cos) throw new Error('Data.Output.Cos needs COS credentials on this recorder (COS_SECRET_ID and COS_SECRET_KEY)');
    if (cos && (asked || cos.bucket)) {
      const bucket = asked?.Bucket ?? cos.bucket;
      if (!bucket) throw new Error('Data.Output.Cos.Bucket is needed: this recorder has no COS_BUCKET');
      const region = asked?.Region ?? cos.region;
      if (!region) throw new Error('Data.Output.Cos.Region is needed: this recorder has no COS_REGION');
      const store = new CosStore(bucket, region, cos, this.log, asked?.Domain);
      const dir = (asked?.TargetDir ?? taskId).replace(/^\/+|\/+$/g, '');
      return {
        store,
        localDir: null,
        keyFor: (name) => (dir ? `${dir}/${name}` : name),
        complete: async (mainKey): Promise<Published> => ({ url: store.urlOf(mainKey) }),
      };
    }
    return localDestination(this.local, taskId);
  }

  /** Which kind of store the task's output goes to (for the metrics). */
  kindOf(request: StoredRequest): 'local' | 'cos' | 'vod' {
    if (request.Output.Vod) return 'vod';
    return this.config.cos && (request.Output.Cos || this.config.cos.bucket) ? 'cos' : 'local';
  }

  /** Where the task's intermediate recording goes up to (StorageType "cos"), or null (kept on disk only). */
  raw(taskId: string, request: StoredRequest): RawChunks | null {
    const { cos } = this.config;
    const place = rawPlaceOf(taskId, request, cos ?? {});
    if (!place) return null;
    if ('error' in place) throw new Error(place.error);
    if (!cos) throw new Error('Data.StorageType "cos" needs COS credentials on this recorder (COS_SECRET_ID and COS_SECRET_KEY)');
    return { store: new CosStore(place.bucket, place.region, cos, this.log), prefix: place.prefix };
  }
}
