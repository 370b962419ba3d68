// The `.env` file: read before the settings, never over what the environment already says.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadEnvFile } from '../../lib/env-file.js';
import { SettingsError } from '../../lib/settings.js';
import { scratchDir } from '../helpers/scratch.js';

describe('loadEnvFile', () => {
  it('reads .env of the working directory; what the environment holds wins', () => {
    const dir = scratchDir('env');
    writeFileSync(join(dir, '.env'), '# a comment\nPORT=9090\nREGION="ap-shanghai"\nexport LOG_LEVEL=debug\n');
    const env: NodeJS.ProcessEnv = { PORT: '8080' };
    assert.equal(loadEnvFile(env, dir), join(dir, '.env'));
    assert.deepEqual(env, { PORT: '8080', REGION: 'ap-shanghai', LOG_LEVEL: 'debug' });
  });

  it('without a .env nothing is read; ENV_FILE empty reads none even where there is one', () => {
    const dir = scratchDir('env-none');
    const env: NodeJS.ProcessEnv = {};
    assert.equal(loadEnvFile(env, dir), null);
    writeFileSync(join(dir, '.env'), 'PORT=9090\n');
    const off: NodeJS.ProcessEnv = { ENV_FILE: '' };
    assert.equal(loadEnvFile(off, dir), null);
    assert.equal(off.PORT, undefined);
  });

  it('ENV_FILE names another file, relative to the working directory; one that cannot be read stops start-up naming ENV_FILE', () => {
    const dir = scratchDir('env-named');
    writeFileSync(join(dir, 'prod.env'), 'MAX_TASKS=7\n');
    const env: NodeJS.ProcessEnv = { ENV_FILE: 'prod.env' };
    loadEnvFile(env, dir);
    assert.equal(env.MAX_TASKS, '7');
    assert.throws(
      () => loadEnvFile({ ENV_FILE: 'missing.env' }, dir),
      (err: unknown) => err instanceof SettingsError && /^setting ENV_FILE: cannot read .*missing\.env \(ENOENT\)$/.test(err.message),
    );
  });
});
