// Field builders for request schemas. Every message names the field at fault, in the form clients of
// the original product expect ("RecordURL missing", "Data.Width must be an integer in [0, 2560]").
// Values are read leniently where the original product's JavaScript clients differ (numbers sent as
// strings, null for "not given"); anything else is refused.
import { z } from 'zod';

type Input = { input?: unknown };

const nullToUndefined = (v: unknown) => (v === null ? undefined : v);

/** Absent or null → undefined; otherwise the inner schema decides. */
export function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(nullToUndefined, schema.optional());
}

/** `<short> missing` when absent, `<path> <shape>` when present but wrong. */
function say(short: string, path: string, shape: string) {
  return (iss: Input) => (iss.input === undefined ? `${short} missing` : `${path} ${shape}`);
}

export function int(path: string, min: number, max: number) {
  const msg = `${path} must be an integer in [${min}, ${max}]`;
  const short = path.split('.').pop() ?? path;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: say(short, path, `must be an integer in [${min}, ${max}]`) })
      .int({ error: msg })
      .min(min, { error: msg })
      .max(max, { error: msg }),
  );
}

export function bool(path: string) {
  const short = path.split('.').pop() ?? path;
  return z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean({ error: say(short, path, 'must be a boolean') }));
}

export function text(path: string, maxLength: number, minLength = 1) {
  const short = path.split('.').pop() ?? path;
  const msg = `${path} must be a string of ${minLength} to ${maxLength} characters`;
  return z
    .string({ error: say(short, path, 'must be a string') })
    .min(minLength, { error: minLength === 1 ? `${short} missing` : msg })
    .max(maxLength, { error: msg });
}

/** A string or a number, kept as a string (ids such as SubAppId arrive both ways). */
export function idText(path: string, maxLength: number) {
  return z.preprocess((v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : v), text(path, maxLength));
}

export function oneOf<const T extends readonly [string, ...string[]]>(path: string, values: T) {
  const short = path.split('.').pop() ?? path;
  const shape = `must be ${values.map((v) => `"${v}"`).join(' or ')}`;
  return z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(values, { error: say(short, path, shape) }));
}

export function httpUrl(path: string) {
  const short = path.split('.').pop() ?? path;
  const msg = `${path} must be an http or https URL`;
  return z
    .string({ error: say(short, path, 'must be a string') })
    .trim()
    .min(1, { error: `${short} missing` })
    .max(8192, { error: `${path} must be at most 8192 characters` })
    .refine(isHttpUrl, { error: msg })
    .meta({ format: 'uri', description: 'an http or https URL' }); // said in the OpenAPI document
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

export function object<T extends z.ZodRawShape>(path: string, shape: T) {
  return z.object(shape, { error: `${path} must be an object` });
}
