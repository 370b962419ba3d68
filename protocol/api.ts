// The wire contract of ../shared/API.md as zod schemas: the envelope, each Action's Data, and the
// normalized Start request that the rest of the system works with.
import { z } from 'zod';
import { bool, httpUrl, idText, int, object, oneOf, optional, text } from './fields.js';
import { RegionField } from './region.js';

/** The six of API.md, then this service's additions (README "Console"): listing tasks and recorders. */
export const ACTIONS = ['Start', 'Pause', 'Resume', 'Refresh', 'Stop', 'Describe', 'ListTasks', 'DescribeRecorders'] as const;
export type Action = (typeof ACTIONS)[number];
export const TASK_COMMANDS = ['Pause', 'Resume', 'Refresh', 'Stop'] as const;
export type TaskCommand = (typeof TASK_COMMANDS)[number];

/** The one endpoint, at every path the original product's clients call (API.md "Transport"). */
export const API_PATHS = ['/', '/record', '/release/record', '/test/record', '/prepub/record'] as const;

export const DEFAULT_WIDTH = 1280;
export const DEFAULT_HEIGHT = 720;
export const DEFAULT_MAX_DURATION_S = 21600;
export const DEFAULT_READY_TIMEOUT_S = 30;

export const Envelope = z.object(
  {
    Action: z.enum(ACTIONS, {
      error: (iss) => (iss.input === undefined ? 'Action missing' : `Action must be one of ${ACTIONS.join(', ')}`),
    }),
    Data: optional(z.record(z.string(), z.unknown(), { error: 'Data must be an object' })),
  },
  { error: 'body must be a JSON object' },
);

/** A COS bucket's name: `<name>-<appid>`, as COS makes them. */
export const COS_BUCKET_NAME = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?-\d{5,12}$/;
/** ISO 8601 as VOD takes it: a date and a time with seconds and a zone (Z or ±hh:mm). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

// A safe file name: no path separators, no dot-only names, no control characters.
const fileName = (path: string) =>
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  text(path, 200).refine((s) => !/[/\\\u0000-\u001f]/.test(s) && s !== '.' && s !== '..', {
    error: `${path} must be a file name (no "/", "\\" or control characters)`,
  });
const dirName = (path: string) =>
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  text(path, 512).refine((s) => !s.split('/').includes('..') && !/[\\\u0000-\u001f]/.test(s), {
    error: `${path} must be a relative path without ".." segments`,
  });

const CosOutput = object('Data.Output.Cos', {
  Domain: optional(text('Data.Output.Cos.Domain', 253)),
  Bucket: optional(
    text('Data.Output.Cos.Bucket', 128).refine((s) => COS_BUCKET_NAME.test(s), {
      error: 'Data.Output.Cos.Bucket must be a COS bucket name, <name>-<appid> (e.g. media-1250000000)',
    }),
  ),
  Region: optional(text('Data.Output.Cos.Region', 64)),
  TargetDir: optional(dirName('Data.Output.Cos.TargetDir')),
  TargetName: optional(fileName('Data.Output.Cos.TargetName')),
});

const VodOutput = object('Data.Output.Vod', {
  MediaInfo: optional(
    object('Data.Output.Vod.MediaInfo', {
      MediaName: optional(text('Data.Output.Vod.MediaInfo.MediaName', 256)),
      ExpireTime: optional(
        text('Data.Output.Vod.MediaInfo.ExpireTime', 64).refine((s) => ISO_8601.test(s) && !Number.isNaN(Date.parse(s)), {
          error: 'Data.Output.Vod.MediaInfo.ExpireTime must be an ISO 8601 time, e.g. 2027-01-01T00:00:00Z',
        }),
      ),
      StorageRegion: optional(text('Data.Output.Vod.MediaInfo.StorageRegion', 64)),
      ClassId: optional(int('Data.Output.Vod.MediaInfo.ClassId', 0, 2 ** 31 - 1)),
    }),
  ),
  ProcedureInfo: optional(
    object('Data.Output.Vod.ProcedureInfo', {
      Procedure: optional(text('Data.Output.Vod.ProcedureInfo.Procedure', 256, 0)),
      SessionContext: optional(text('Data.Output.Vod.ProcedureInfo.SessionContext', 1000, 0)),
    }),
  ),
  SourceContext: optional(text('Data.Output.Vod.SourceContext', 250, 0)),
  SubAppId: optional(idText('Data.Output.Vod.SubAppId', 32)),
});

/** The AES-128 key is 16 bytes. */
export const HLS_KEY_BYTES = 16;

const VideoOutput = object('Data.Output.Video', {
  Muxer: optional(oneOf('Data.Output.Video.Muxer', ['mp4', 'hls'])),
  EncryptKey: optional(text('Data.Output.Video.EncryptKey', 256)),
  AuthUrl: optional(httpUrl('Data.Output.Video.AuthUrl')),
  /** Addition: `text` (the original's: the key is the first 16 bytes of EncryptKey) or `hex`. */
  EncryptKeyFormat: optional(oneOf('Data.Output.Video.EncryptKeyFormat', ['text', 'hex'])),
}).superRefine((v, ctx) => {
  if (v.EncryptKey !== undefined) {
    const hex = v.EncryptKeyFormat === 'hex';
    if (hex && !/^[0-9a-fA-F]{32}$/.test(v.EncryptKey)) {
      ctx.addIssue({ code: 'custom', path: ['EncryptKey'], message: 'Data.Output.Video.EncryptKey must be 32 hexadecimal characters (a 128-bit key) when EncryptKeyFormat is "hex"' });
    } else if (!hex && new TextEncoder().encode(v.EncryptKey).length < HLS_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['EncryptKey'],
        message: `Data.Output.Video.EncryptKey must be at least ${HLS_KEY_BYTES} bytes: its first ${HLS_KEY_BYTES} are the AES-128 key (or give 32 hex characters with EncryptKeyFormat "hex")`,
      });
    }
  }
  if (v.EncryptKey && !v.AuthUrl) {
    ctx.addIssue({ code: 'custom', path: ['AuthUrl'], message: 'AuthUrl missing (required with EncryptKey)' });
  }
});

/**
 * The 16 key bytes, as hex, of an EncryptKey: as the original product made it (the string written
 * as text into ffmpeg's key file, of which ffmpeg reads 16 bytes), or decoded from hex.
 */
export function hlsKeyHex(encryptKey: string, format: 'text' | 'hex' = 'text'): string {
  if (format === 'hex') return encryptKey.toLowerCase();
  let hex = '';
  for (const b of new TextEncoder().encode(encryptKey).subarray(0, HLS_KEY_BYTES)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export const StartData = object('Data', {
  RecordURL: httpUrl('Data.RecordURL'),
  ManualStart: optional(bool('Data.ManualStart')),
  Width: optional(int('Data.Width', 0, 2560)),
  Height: optional(int('Data.Height', 0, 2560)),
  CallbackURL: optional(httpUrl('Data.CallbackURL')),
  MaxDurationLimit: optional(int('Data.MaxDurationLimit', 0, 36000)),
  StorageType: optional(oneOf('Data.StorageType', ['cfs', 'cos'])),
  Output: optional(
    object('Data.Output', {
      Cos: optional(CosOutput),
      Vod: optional(VodOutput),
      Video: optional(VideoOutput),
    }),
  ),
  RecordId: optional(text('Data.RecordId', 64)),
  ReadyTimeout: optional(int('Data.ReadyTimeout', 0, 60)),
  /** Addition (README "Regions"): the region to record in; default: the region asked. */
  Region: RegionField('Data.Region'),
});
export type StartData = z.output<typeof StartData>;

export const TaskRef = object('Data', {
  TaskID: text('Data.TaskID', 128),
});

/** The Start request with every default resolved: what tasks, jobs and recorders carry. */
export const StartRequest = z.object({
  RecordURL: z.string(),
  ManualStart: z.boolean(),
  Width: z.number().int().min(2),
  Height: z.number().int().min(2),
  CallbackURL: z.string().optional(),
  MaxDurationLimit: z.number().int().positive(),
  StorageType: z.enum(['cfs', 'cos']),
  ReadyTimeout: z.number().int().positive(),
  RecordId: z.string().optional(),
  /** The region the client named; absent: the region asked. */
  Region: z.string().optional(),
  Output: z.object({
    Cos: CosOutput.optional(),
    Vod: VodOutput.optional(),
    Video: z.object({
      Muxer: z.enum(['mp4', 'hls']),
      /** The 16-byte key as 32 hex characters, whichever EncryptKeyFormat the client used. */
      EncryptKey: z
        .string()
        .regex(/^[0-9a-f]{32}$/)
        .optional(),
      AuthUrl: z.string().optional(),
    }),
  }),
});
export type StartRequest = z.infer<typeof StartRequest>;

/**
 * The Start request as tasks and jobs store it: the HLS key only sealed (SealedKey), never in the
 * clear; strict, so a plain EncryptKey can never slip into storage.
 */
export const StoredRequest = StartRequest.extend({
  Output: StartRequest.shape.Output.extend({
    Video: z.object({ Muxer: z.enum(['mp4', 'hls']), AuthUrl: z.string().optional(), SealedKey: z.string().optional() }).strict(),
  }),
});
export type StoredRequest = z.infer<typeof StoredRequest>;

const even = (n: number) => n - (n % 2);

export function normalizeStart(d: StartData): StartRequest {
  const video = d.Output?.Video;
  return {
    RecordURL: d.RecordURL,
    ManualStart: d.ManualStart ?? false,
    Width: even(d.Width || DEFAULT_WIDTH) || 2,
    Height: even(d.Height || DEFAULT_HEIGHT) || 2,
    CallbackURL: d.CallbackURL,
    MaxDurationLimit: d.MaxDurationLimit || DEFAULT_MAX_DURATION_S,
    StorageType: d.StorageType ?? 'cfs',
    ReadyTimeout: d.ReadyTimeout || DEFAULT_READY_TIMEOUT_S,
    RecordId: d.RecordId,
    ...(d.Region ? { Region: d.Region } : {}),
    Output: {
      Cos: d.Output?.Cos,
      Vod: d.Output?.Vod,
      Video: {
        Muxer: video?.Muxer ?? 'mp4',
        EncryptKey: video?.EncryptKey === undefined ? undefined : hlsKeyHex(video.EncryptKey, video.EncryptKeyFormat),
        AuthUrl: video?.AuthUrl,
      },
    },
  };
}

/** The first problem of a failed parse, as one line naming the field (messages are set per field). */
export function firstIssue(error: { issues: ReadonlyArray<{ message: string }> }): string {
  return error.issues[0]?.message ?? 'invalid request';
}
