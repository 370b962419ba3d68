// A `.env` file read into the environment before the settings are: `ENV_FILE` names it (empty: none),
// else `.env` in the working directory if there is one. What the environment already holds wins, as
// with Node's --env-file, so a setting given on the command line is never overridden by the file.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { SettingsError } from './settings.js';

/** Loads the file into `env`; answers its path, or null when none was read. */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  const named = env.ENV_FILE;
  if (named === '') return null;
  const path = resolve(cwd, named ?? '.env');
  if (named === undefined && !existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`setting ENV_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  for (const [key, value] of Object.entries(parseEnv(text))) if (env[key] === undefined) env[key] = value;
  return path;
}
