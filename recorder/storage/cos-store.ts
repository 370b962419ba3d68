// A COS bucket as an object store, through cos-nodejs-sdk-v5. Every call is tried again while its
// failure may pass (retry.ts), with back-off: the SDK's own retries (up to four sends of a 5xx'd
// request, at once) cover a blip, ours an outage of seconds. With an endpoint (COS_ENDPOINT) every request goes to that address
// while keeping the bucket's own host name in the Host header and the signature (the SDK's `Ip`):
// private endpoints, and the tests' signature-checking COS.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import COS from 'cos-nodejs-sdk-v5';
import type { Logger } from '../../lib/logger.js';
import { describeStoreError, withRetries, type RetryPolicy, UPLOAD_RETRIES } from './retry.js';
import type { MultipartUpload, ObjectStore } from './target.js';

export type CosCredentials = { secretId: string; secretKey: string; token?: string };

export type CosAccess = {
  credentials: CosCredentials;
  /** Where requests go instead of the bucket's host (COS_ENDPOINT), e.g. http://127.0.0.1:9000. */
  endpoint?: string;
  /** Each request's own limit. */
  timeoutMs?: number;
  retries?: RetryPolicy;
};

export function cosClient(access: CosAccess): COS {
  const { credentials, endpoint } = access;
  const ep = endpoint ? new URL(endpoint) : null;
  return new COS({
    SecretId: credentials.secretId,
    SecretKey: credentials.secretKey,
    ...(credentials.token ? { SecurityToken: credentials.token } : {}),
    Protocol: ep ? (ep.protocol as 'http:' | 'https:') : 'https:',
    ...(ep ? { Ip: ep.host } : {}),
    // Switching to a backup domain on failure would leave the endpoint (and the tests' loopback).
    AutoSwitchHost: false,
    Timeout: access.timeoutMs ?? 60_000,
    KeepAlive: true,
  });
}

/** Where a bucket's objects are read: `<Domain>/<key>` (https:// unless the Domain names a scheme), else the bucket's host. */
export function cosUrl(bucket: string, region: string, key: string, domain?: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  if (domain) {
    const base = /^https?:\/\//i.test(domain) ? domain : `https://${domain}`;
    return `${base.replace(/\/+$/, '')}/${path}`;
  }
  return `https://${bucket}.cos.${region}.myqcloud.com/${path}`;
}

export class CosStore implements ObjectStore {
  readonly name: string;
  private readonly cos: COS;
  private readonly retries: RetryPolicy;

  constructor(
    private readonly bucket: string,
    private readonly region: string,
    access: CosAccess,
    private readonly log: Logger,
    private readonly domain?: string,
  ) {
    this.name = `COS bucket ${bucket} (${region})`;
    this.cos = cosClient(access);
    this.retries = access.retries ?? UPLOAD_RETRIES;
  }

  async put(key: string, body: Buffer | { path: string }, contentType: string): Promise<void> {
    const where = { Bucket: this.bucket, Region: this.region, Key: key };
    await this.try(`put ${key}`, async () => {
      // A file is read afresh on every try (a stream cannot be sent twice).
      const data = Buffer.isBuffer(body) ? body : createReadStream(body.path);
      const length = Buffer.isBuffer(body) ? body.length : (await stat(body.path)).size;
      return this.cos.putObject({ ...where, Body: data, ContentType: contentType, ContentLength: length });
    });
  }

  async beginMultipart(key: string, contentType: string): Promise<MultipartUpload> {
    const where = { Bucket: this.bucket, Region: this.region, Key: key };
    const { UploadId } = await this.try(`begin ${key}`, () => this.cos.multipartInit({ ...where, ContentType: contentType }));
    const parts: { PartNumber: number; ETag: string }[] = [];
    return {
      part: async (n, bytes) => {
        const { ETag } = await this.try(`part ${n} of ${key}`, () => this.cos.multipartUpload({ ...where, UploadId, PartNumber: n, Body: bytes, ContentLength: bytes.length }));
        parts[n - 1] = { PartNumber: n, ETag };
      },
      complete: async () => {
        await this.try(`complete ${key}`, () => this.cos.multipartComplete({ ...where, UploadId, Parts: parts.filter(Boolean) }));
      },
      abort: async () => {
        await this.try(`abort ${key}`, () => this.cos.multipartAbort({ ...where, UploadId }));
      },
    };
  }

  async remove(keys: string[]): Promise<void> {
    // At most 1000 keys per request (COS's limit).
    for (let i = 0; i < keys.length; i += 1000) {
      const Objects = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      await this.try('remove', () => this.cos.deleteMultipleObject({ Bucket: this.bucket, Region: this.region, Objects }));
    }
  }

  /** Keys under `prefix`, all of them (listed a thousand at a time). */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let marker = '';
    for (;;) {
      const page = await this.try(`list ${prefix}`, () => this.cos.getBucket({ Bucket: this.bucket, Region: this.region, Prefix: prefix, Marker: marker, MaxKeys: 1000 }));
      keys.push(...page.Contents.map((c) => c.Key));
      if (page.IsTruncated !== 'true' || !page.Contents.length) return keys;
      marker = page.NextMarker || page.Contents.at(-1)!.Key;
    }
  }

  async get(key: string): Promise<Buffer> {
    const { Body } = await this.try(`get ${key}`, () => this.cos.getObject({ Bucket: this.bucket, Region: this.region, Key: key }));
    return Body as Buffer;
  }

  urlOf(key: string): string {
    return cosUrl(this.bucket, this.region, key, this.domain);
  }

  private async try<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(fn, this.retries, (err, n) => this.log.warn({ what, tryNumber: n, err: describeStoreError(err) }, 'COS request failed; trying again'));
    } catch (err) {
      throw new Error(`${this.name}: ${what} failed: ${describeStoreError(err)}`, { cause: err });
    }
  }
}
