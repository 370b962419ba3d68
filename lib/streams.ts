// Small helpers for Redis streams whose entries carry one JSON document (field PAYLOAD_FIELD).
import { PAYLOAD_FIELD } from '../protocol/keys.js';
import type { RedisClient } from './redis-connect.js';

export type StreamEntry = { id: string; payload: unknown };

type RawEntries = [id: string, fields: string[]][];
type RawRead = [stream: string, entries: RawEntries][] | null;

export function parseEntries(raw: RawEntries): StreamEntry[] {
  // XCLAIM answers nil for an entry deleted meanwhile.
  return raw.filter(Boolean).map(([id, fields]) => {
    const i = fields ? fields.indexOf(PAYLOAD_FIELD) : -1;
    let payload: unknown;
    try {
      payload = i >= 0 ? JSON.parse(fields[i + 1] ?? 'null') : null;
    } catch {
      payload = null; // an entry not written by us; the caller's schema check refuses it
    }
    return { id, payload };
  });
}

export function parseRead(raw: unknown): StreamEntry[] {
  const r = raw as RawRead;
  return r ? r.flatMap(([, entries]) => parseEntries(entries)) : [];
}

export async function ensureGroup(redis: RedisClient, stream: string, group: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!String(err).includes('BUSYGROUP')) throw err;
  }
}

export async function addJson(redis: RedisClient, stream: string, doc: unknown): Promise<string> {
  return (await redis.xadd(stream, '*', PAYLOAD_FIELD, JSON.stringify(doc)))!;
}
