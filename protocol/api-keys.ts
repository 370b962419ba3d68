// The API key pairs of API.md "Authentication" as configured (API_KEYS, API_KEYS_FILE):
// comma-separated `key:secret`, each optionally followed by `:Action|Action…`
// (e.g. `ops:s3cr3t,viewer:pa55:Describe`). Newlines separate pairs too, so a file can list one per line.
import { ACTIONS, type Action } from './api.js';

export type ApiKey = {
  key: string;
  secret: string;
  /** The Actions this key may call; absent: every Action. */
  actions?: readonly Action[];
};

const KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/** Parses the list; a mistake throws naming the entry by its key, never showing a secret. */
export function parseApiKeys(text: string): ApiKey[] {
  const entries = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const [key = '', secret = '', actions, ...rest] = entry.split(':');
    const which = KEY.test(key) ? `key ${JSON.stringify(key)}` : `entry ${i + 1}`;
    if (!KEY.test(key)) throw new Error(`${which}: the key must be 1 to 128 of A-Z, a-z, 0-9, "_", "." and "-"`);
    if (rest.length) throw new Error(`${which}: too many ":" (want key:secret or key:secret:Action|Action)`);
    if (secret.length < 8) throw new Error(`${which}: the secret must be at least 8 characters`);
    if (seen.has(key)) throw new Error(`${which} is listed twice`);
    seen.add(key);
    if (actions === undefined) return { key, secret };
    const list = actions.split('|').map((a) => a.trim());
    const unknown = list.find((a) => !(ACTIONS as readonly string[]).includes(a));
    if (unknown !== undefined) throw new Error(`${which}: unknown Action ${JSON.stringify(unknown)} (one of ${ACTIONS.join(', ')})`);
    return { key, secret, actions: list as Action[] };
  });
}
