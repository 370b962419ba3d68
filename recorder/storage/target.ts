// Where finished files go, in two layers. An ObjectStore keeps objects under keys (local disk, a COS
// bucket); a Destination is one task's output in one store: the key its main file (the MP4, or the
// HLS playlist with its segments beside it) gets, and what completes it (VOD's CommitUpload).

/** One upload in parts (COS multipart): parts numbered from 1, each but the last ≥ 1 MiB. */
export interface MultipartUpload {
  part(partNumber: number, bytes: Buffer): Promise<void>;
  complete(): Promise<void>;
  abort(): Promise<void>;
}

export interface ObjectStore {
  /** What it is, for messages: `local disk`, `COS bucket media-1250000000`. */
  readonly name: string;
  /** Stores `body` (bytes, or the file at a local path, which the store may move) under `key`. */
  put(key: string, body: Buffer | { path: string }, contentType: string): Promise<void>;
  beginMultipart(key: string, contentType: string): Promise<MultipartUpload>;
  remove(keys: string[]): Promise<void>;
  /** The URL the object is read at. */
  urlOf(key: string): string;
}

export type Published = { url: string; fileId?: string };

export interface Destination {
  readonly store: ObjectStore;
  /** The key of the output's main file (the MP4, or the playlist; HLS segments go beside it). */
  keyFor(name: string): string;
  /**
   * A local directory whose files are published as they are written (the local store serves it),
   * so nothing needs uploading; null for remote stores.
   */
  readonly localDir: string | null;
  /** After the main file (and its segments) are stored: where the result is read, and its id. */
  complete(mainKey: string): Promise<Published>;
  /**
   * Where the right to upload runs out and cannot be extended (VOD's temporary credentials): opens
   * the upload again while the old right still holds and answers true. `store` and `keyFor` then
   * answer the new ones, and whatever was sent must be sent again there. Asked before each upload.
   */
  renew?(): Promise<boolean>;
}

/** What an upload made while recording needs of its destination: the store, the key, and renewal. */
export type UploadPlace = Pick<Destination, 'store' | 'keyFor' | 'renew'>;

/** The key of a file beside `mainKey` (an HLS segment beside its playlist). */
export function besideKey(mainKey: string, name: string): string {
  const slash = mainKey.lastIndexOf('/');
  return slash < 0 ? name : `${mainKey.slice(0, slash + 1)}${name}`;
}

export const CONTENT_TYPES = { mp4: 'video/mp4', m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t' } as const;
