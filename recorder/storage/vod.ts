// A task's output in Tencent VOD, through tencentcloud-sdk-nodejs-vod (API 3.0): ApplyUpload says
// where the media goes (a COS bucket and path, with temporary credentials), the files go up there
// as they are written (HLS segments beside the playlist), and CommitUpload makes it a media file
// with a FileId. A recording that outlasts the credentials is applied for again (see renew). With
// an endpoint (VOD_ENDPOINT) requests go to that address while the Host header and the TC3
// signature keep VOD's own host and service name.
import { Agent as HttpAgent } from 'node:http';
import { connect as netConnect } from 'node:net';
import { Agent as HttpsAgent } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import * as tencentcloud from 'tencentcloud-sdk-nodejs-vod';
import type { Logger } from '../../lib/logger.js';
import type { StoredRequest } from '../../protocol/api.js';
import { type CosAccess, CosStore } from './cos-store.js';
import { describeStoreError, withRetries, UPLOAD_RETRIES } from './retry.js';
import type { Destination } from './target.js';

const VodClient = tencentcloud.vod.v20180717.Client;
type VodClient = InstanceType<typeof VodClient>;

export const VOD_HOST = 'vod.tencentcloudapi.com';

export type VodAccess = {
  credentials: { secretId: string; secretKey: string };
  region: string;
  subAppId?: number;
  storageRegion?: string;
  /** Where VOD's API requests go instead of its host (VOD_ENDPOINT). */
  endpoint?: string;
  /** Where the uploads into VOD's storage go instead of the bucket's host (COS_ENDPOINT). */
  cosEndpoint?: string;
};

export function vodClient(access: VodAccess): VodClient {
  const ep = access.endpoint ? new URL(access.endpoint) : null;
  return new VodClient({
    credential: access.credentials,
    region: access.region,
    profile: {
      httpProfile: {
        endpoint: VOD_HOST,
        protocol: ep ? `${ep.protocol}//` : 'https://',
        reqTimeout: 30,
        ...(ep ? { agent: agentTo(ep) } : {}),
      },
    },
  });
}

/** An agent that opens every connection to `ep`, whatever host the request names. */
function agentTo(ep: URL): HttpAgent {
  const port = Number(ep.port) || (ep.protocol === 'https:' ? 443 : 80);
  const host = ep.hostname.replace(/^\[|\]$/g, '');
  if (ep.protocol === 'https:') {
    const agent = new HttpsAgent({ keepAlive: true });
    agent.createConnection = (opts) => tlsConnect({ ...(opts as object), host, port, servername: VOD_HOST });
    return agent;
  }
  const agent = new HttpAgent({ keepAlive: true });
  agent.createConnection = () => netConnect({ host, port });
  return agent;
}

/** One ApplyUpload's answer: where the files go, with what right, until when. */
type Applied = { store: CosStore; mainKey: string; sessionKey: string; renewAt: number };

/**
 * VOD's temporary credentials cannot be extended, and they open only the folder they came with. So
 * a recording that outlasts them is applied for again once two thirds of their life is gone: the
 * outputs then send what they hold again, from their local files, under the new path; the old
 * upload is never committed.
 */
const RENEW_AT_LIFE = 2 / 3;

/** Opens the task's upload in VOD (ApplyUpload) and answers where its files go. */
export async function vodDestination(request: StoredRequest, mediaType: 'mp4' | 'm3u8', mediaName: string, access: VodAccess, log: Logger): Promise<Destination> {
  const vod = request.Output.Vod ?? {};
  const client = vodClient(access);
  const subAppId = vod.SubAppId !== undefined ? Number(vod.SubAppId) : access.subAppId;
  const info = vod.MediaInfo ?? {};
  const params = {
    MediaType: mediaType,
    MediaName: info.MediaName ?? mediaName.replace(/\.(mp4|m3u8)$/, ''),
    ...(info.ExpireTime ? { ExpireTime: info.ExpireTime } : {}),
    ...((info.StorageRegion ?? access.storageRegion) ? { StorageRegion: info.StorageRegion ?? access.storageRegion } : {}),
    ...(info.ClassId !== undefined ? { ClassId: info.ClassId } : {}),
    ...(vod.ProcedureInfo?.Procedure ? { Procedure: vod.ProcedureInfo.Procedure } : {}),
    ...(vod.ProcedureInfo?.SessionContext ? { SessionContext: vod.ProcedureInfo.SessionContext } : {}),
    ...(vod.SourceContext ? { SourceContext: vod.SourceContext } : {}),
    ...(subAppId !== undefined ? { SubAppId: subAppId } : {}),
  };
  const apply = async (): Promise<Applied> => {
    const applied = await call('ApplyUpload', log, () => client.ApplyUpload(params));
    const cert = applied.TempCertificate;
    if (!applied.StorageBucket || !applied.StorageRegion || !applied.MediaStoragePath || !applied.VodSessionKey || !cert?.SecretId || !cert.SecretKey) {
      throw new Error('VOD ApplyUpload answered without a bucket, path, session or credentials');
    }
    const cosAccess: CosAccess = {
      credentials: { secretId: cert.SecretId, secretKey: cert.SecretKey, ...(cert.Token ? { token: cert.Token } : {}) },
      ...(access.cosEndpoint ? { endpoint: access.cosEndpoint } : {}),
    };
    const now = Date.now();
    const life = cert.ExpiredTime ? cert.ExpiredTime * 1000 - now : Number.POSITIVE_INFINITY;
    // Expired already by this machine's clock: its clock is off from VOD's; renewing at once would never end.
    if (life <= 0) log.warn({ expiredTime: cert.ExpiredTime }, "VOD's upload credentials have expired by this machine's clock, which must be off: they are not renewed early");
    return {
      store: new CosStore(applied.StorageBucket, applied.StorageRegion, cosAccess, log),
      // VOD names the media file; an HLS set's segments go beside it.
      mainKey: applied.MediaStoragePath.replace(/^\/+/, ''),
      sessionKey: applied.VodSessionKey,
      renewAt: life <= 0 ? Number.POSITIVE_INFINITY : now + life * RENEW_AT_LIFE,
    };
  };
  let upload = await apply();
  return {
    get store() {
      return upload.store;
    },
    localDir: null,
    keyFor: () => upload.mainKey,
    renew: async () => {
      if (Date.now() < upload.renewAt) return false;
      const next = await apply().catch((err: unknown) => {
        // The old credentials still hold for a third of their life: tried again at the next upload.
        log.warn({ err: String(err) }, 'could not apply for a new VOD upload before the credentials expire; trying again');
        return null;
      });
      if (!next) return false;
      log.info({ from: upload.mainKey, to: next.mainKey }, 'VOD upload applied for again before its credentials expire; what was sent goes up again');
      upload = next;
      return true;
    },
    complete: async () => {
      const done = await call('CommitUpload', log, () => client.CommitUpload({ VodSessionKey: upload.sessionKey, ...(subAppId !== undefined ? { SubAppId: subAppId } : {}) }));
      if (!done.FileId) throw new Error('VOD CommitUpload answered without a FileId');
      return { url: done.MediaUrl ?? '', fileId: done.FileId };
    },
  };
}

/** VOD answers a passing failure as InternalError (or a dropped connection): tried again. */
async function call<T>(action: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await withRetries(
      async () => {
        try {
          return await fn();
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (/^(InternalError|RequestLimitExceeded|ResourceUnavailable)/.test(code)) Object.assign(err as object, { statusCode: 503 });
          throw err;
        }
      },
      UPLOAD_RETRIES,
      (err, n) => log.warn({ action, tryNumber: n, err: describeStoreError(err) }, 'VOD request failed; trying again'),
    );
  } catch (err) {
    throw new Error(`VOD ${action} failed: ${describeStoreError(err)}`, { cause: err });
  }
}
