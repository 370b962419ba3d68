// Regions (API.md addition, README "Regions"): every TaskID names its home region, so any region's
// endpoint, or an edge worker, can send a call for it to the one region whose store holds it.
import { z } from 'zod';

/** A region's name: REGION, the keys of REGION_ENDPOINTS, Data.Region. */
export const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const DEFAULT_REGION = 'default';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new TaskID of `region`: `<region>-<uuid>`, at most 32 + 1 + 36 characters. */
export function newTaskId(region: string): string {
  return `${region}-${crypto.randomUUID()}`;
}

/**
 * The home region a TaskID names, or null when it names none: TaskIDs made before regions (a bare
 * UUID) and strings that are no TaskID of ours belong to the region that is asked.
 */
export function regionOf(taskId: string): string | null {
  const cut = taskId.length - 37;
  if (cut < 1 || taskId[cut] !== '-' || !UUID.test(taskId.slice(cut + 1))) return null;
  const region = taskId.slice(0, cut);
  return REGION_NAME.test(region) ? region : null;
}

/** `region=url,…` (REGION_ENDPOINTS): where each region's hosts answer; an error names what is wrong. */
export function parseRegionEndpoints(text: string, setting = 'REGION_ENDPOINTS'): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    const url =
      eq < 0
        ? ''
        : part
            .slice(eq + 1)
            .trim()
            .replace(/\/+$/, '');
    if (!REGION_NAME.test(name)) throw new Error(`setting ${setting}: ${JSON.stringify(part.slice(0, 80))} is not region=url (a region is 1 to 32 of a-z, 0-9 and "-")`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`setting ${setting}: region ${name} has no valid URL (${JSON.stringify(url.slice(0, 80))})`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`setting ${setting}: region ${name}'s URL must be http or https`);
    if (out.has(name)) throw new Error(`setting ${setting} names region ${name} twice`);
    out.set(name, url);
  }
  return out;
}

export const RegionField = (path: string) =>
  z.preprocess(
    (v) => (v === null ? undefined : typeof v === 'string' ? v.trim().toLowerCase() : v),
    z
      .string({ error: `${path} must be a string` })
      .regex(REGION_NAME, { error: `${path} must be a region name: 1 to 32 of a-z, 0-9 and "-"` })
      .optional(),
  );
