// Where the intermediate recording of a Start with StorageType "cos" lives: the bucket COS_BUCKET_RAW
// when the deployment has one, else the bucket the output goes to (Output.Cos, or COS_BUCKET), always
// under `raw/<TaskID>/`. An output to VOD has no bucket of its own to borrow (VOD's is lent for one
// upload), so it needs COS_BUCKET_RAW or COS_BUCKET. The gateway refuses a Start this cannot place;
// the recorders place its chunks, and recover them, by the same rule.
import type { StartRequest } from './api.js';

export type CosDefaults = { bucket?: string; region?: string; rawBucket?: string };
export type RawPlace = { bucket: string; region: string; prefix: string };

/** Null for StorageType "cfs"; a message naming the field or setting at fault when it cannot be placed. */
export function rawPlaceOf(taskId: string, r: Pick<StartRequest, 'StorageType' | 'Output'>, d: CosDefaults): RawPlace | { error: string } | null {
  if (r.StorageType !== 'cos') return null;
  const prefix = `raw/${taskId}/`;
  if (d.rawBucket) {
    if (!d.region) return { error: 'Data.StorageType "cos" needs COS_REGION on this service (the region of COS_BUCKET_RAW)' };
    return { bucket: d.rawBucket, region: d.region, prefix };
  }
  const cos = r.Output.Vod ? undefined : r.Output.Cos;
  const bucket = cos?.Bucket ?? d.bucket;
  if (!bucket) {
    return {
      error: `Data.StorageType "cos" needs a bucket: this service has no COS_BUCKET_RAW or COS_BUCKET${r.Output.Vod ? ' (VOD lends no bucket for it)' : ', and Data.Output.Cos.Bucket is not given'}`,
    };
  }
  const region = cos?.Region ?? d.region; // as the output's own region is chosen
  if (!region) return { error: 'Data.StorageType "cos" needs a region: Data.Output.Cos.Region, or COS_REGION on this service' };
  return { bucket, region, prefix };
}
