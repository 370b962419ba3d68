import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings, SETTING_NAMES, SettingsError } from '../../lib/settings.js';
import { scratchDir } from '../helpers/scratch.js';
import { makeSelfSignedCert } from '../helpers/tls.js';

describe('settings', () => {
  it('has defaults for the embedded default', () => {
    const s = loadSettings({});
    assert.equal(s.PORT, 8080);
    assert.equal(s.HOST, '127.0.0.1');
    assert.equal(s.RECORDER_SLOTS, 2);
    assert.equal(s.BROWSER_POOL, 1);
    assert.equal(s.ADMISSION_CPU_CORES, 'auto');
    assert.equal(s.FPS_WARNING_BELOW, 25);
    assert.equal(s.REDIS_URL, undefined);
    assert.equal(s.PUBLIC_URL, 'http://127.0.0.1:8080');
    assert.ok(s.DATA_DIR.endsWith('/data') && s.DATA_DIR.startsWith('/'));
  });

  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'setting PORT must be an integer in [1, 65535] (got "eighty")'],
    [{ PORT: '70000' }, 'setting PORT must be an integer in [1, 65535] (got "70000")'],
    [{ RECORDER_SLOTS: '0' }, 'setting RECORDER_SLOTS must be an integer in [1, 64] (got "0")'],
    [{ REDIS_URL: 'http://x' }, 'setting REDIS_URL must be a redis or rediss URL (got "http://x")'],
    [{ LOG_LEVEL: 'loud' }, 'setting LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ ROLE: 'everything' }, 'setting ROLE must be "all", "api" or "recorder" (got "everything")'],
    [{ CHROMIUM_PATH: '/nonexistent/chromium' }, 'setting CHROMIUM_PATH must name an existing executable (got "/nonexistent/chromium")'],
    [{ CHROMIUM_FLAGS: '--ok rm -rf' }, 'setting CHROMIUM_FLAGS must be space-separated flags, each like --name or --name=value (got "--ok rm -rf")'],
    [
      { CHROMIUM_FLAGS: '--lang=zh-CN --proxy-server=http://proxy:3128' },
      'setting CHROMIUM_FLAGS must not set the proxy, the host resolver or --no-sandbox: every connection of the browser goes through the recorder\'s egress proxy (URL_ALLOWLIST), and the sandbox is CHROMIUM_NO_SANDBOX\'s (got "--lang=zh-CN --proxy-server=http://proxy:3128")',
    ],
    [
      { CHROMIUM_FLAGS: '--no-sandbox' },
      'setting CHROMIUM_FLAGS must not set the proxy, the host resolver or --no-sandbox: every connection of the browser goes through the recorder\'s egress proxy (URL_ALLOWLIST), and the sandbox is CHROMIUM_NO_SANDBOX\'s (got "--no-sandbox")',
    ],
    [{ URL_ALLOWLIST: '10.0.0.0/40' }, 'setting URL_ALLOWLIST must be comma-separated hosts, host:ports, addresses or CIDRs: "10.0.0.0/40" is not a CIDR (got "10.0.0.0/40")'],
    [{ BROWSER_POOL: '-1' }, 'setting BROWSER_POOL must be an integer in [0, 16] (got "-1")'],
    [{ ADMISSION_CPU_CORES: 'lots' }, 'setting ADMISSION_CPU_CORES must be "auto" or a number in [0, 64] (got "lots")'],
    [{ ADMISSION_CPU_CORES: '65' }, 'setting ADMISSION_CPU_CORES must be "auto" or a number in [0, 64] (got "65")'],
    [{ CALLBACK_SECRET: 'short' }, 'setting CALLBACK_SECRET must be at least 16 characters'],
    [{ CLUSTER_SECRET: 'short' }, 'setting CLUSTER_SECRET must be at least 16 characters'],
    [{ REDIS_CLUSTER_NODES: 'redis-a.internal' }, 'setting REDIS_CLUSTER_NODES must be comma-separated host:port ("redis-a.internal" is not host:port) (got "redis-a.internal")'],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://x' }, 'setting REDIS_CLUSTER_NODES cannot be used with REDIS_URL: give one of them'],
    [{ ROLE: 'recorder' }, 'setting REDIS_URL (or REDIS_CLUSTER_NODES) is required when ROLE is "recorder" (it must reach the runtime\'s Redis)'],
    [{ INTERNAL_URL: 'ftp://x' }, 'setting INTERNAL_URL must be a http or https URL (got "ftp://x")'],
    [{ QUEUE_TIMEOUT_S: '0' }, 'setting QUEUE_TIMEOUT_S must be an integer in [1, 86400] (got "0")'],
  ];
  it('reads the many-hosts settings', () => {
    const s = loadSettings({ REDIS_CLUSTER_NODES: 'redis-a.internal:7000, [::1]:7001', HOST: '0.0.0.0', PORT: '9000', QUEUE_TIMEOUT_S: '30' });
    assert.equal(s.INTERNAL_URL, 'http://127.0.0.1:9000', 'INTERNAL_URL defaults to this host and port');
    assert.equal(s.QUEUE_TIMEOUT_S, 30);
    assert.equal(loadSettings({ INTERNAL_URL: 'http://api-1.internal:8080/' }).INTERNAL_URL, 'http://api-1.internal:8080');
    assert.equal(loadSettings({}).QUEUE_TIMEOUT_S, 600);
  });

  it('reads decimals where a setting is one', () => {
    assert.equal(loadSettings({ ADMISSION_CPU_CORES: '1.5' }).ADMISSION_CPU_CORES, 1.5);
    assert.equal(loadSettings({ ADMISSION_CPU_CORES: ' auto ' }).ADMISSION_CPU_CORES, 'auto');
  });

  for (const [env, message] of bad) {
    it(`refuses ${Object.keys(env)[0]}=${Object.values(env)[0]} in one line naming it`, () => {
      assert.throws(
        () => loadSettings(env),
        (err: unknown) => err instanceof SettingsError && err.message === message,
      );
    });
  }

  it('reads API keys from API_KEYS and API_KEYS_FILE, with their Actions', () => {
    const file = join(scratchDir('settings-keys'), 'keys');
    writeFileSync(file, '# one pair per line\nci:ci-secret-123:Start|Stop|Describe\n\nviewer:viewer-pa55:Describe\n');
    const s = loadSettings({ API_KEYS: 'ops:s3cr3t-ops', API_KEYS_FILE: file });
    assert.deepEqual(s.apiKeys, [
      { key: 'ops', secret: 's3cr3t-ops' },
      { key: 'ci', secret: 'ci-secret-123', actions: ['Start', 'Stop', 'Describe'] },
      { key: 'viewer', secret: 'viewer-pa55', actions: ['Describe'] },
    ]);
    assert.deepEqual(loadSettings({}).apiKeys, [], 'no keys: open mode');
  });

  const badKeys: [Record<string, string>, string][] = [
    [{ API_KEYS: 'ops:short' }, 'setting API_KEYS: key "ops": the secret must be at least 8 characters'],
    [{ API_KEYS: 'ops:long-enough:Start|Delete' }, 'setting API_KEYS: key "ops": unknown Action "Delete" (one of Start, Pause, Resume, Refresh, Stop, Describe, ListTasks, DescribeRecorders)'],
    [{ API_KEYS: 'ops:long-enough,ops:other-secret' }, 'setting API_KEYS: key "ops" is listed twice'],
    [{ API_KEYS: 'o/ps:long-enough' }, 'setting API_KEYS: entry 1: the key must be 1 to 128 of A-Z, a-z, 0-9, "_", "." and "-"'],
    [{ API_KEYS: ' , ' }, 'setting API_KEYS: lists no key:secret pair'],
    [{ API_KEYS_FILE: '/nonexistent/keys' }, 'setting API_KEYS_FILE names a file that cannot be read (ENOENT: "/nonexistent/keys")'],
  ];
  for (const [env, message] of badKeys) {
    it(`refuses ${Object.keys(env)[0]} naming the entry, never the secret: ${message.slice(0, 60)}`, () => {
      assert.throws(
        () => loadSettings(env),
        (err: unknown) => err instanceof SettingsError && err.message === message && !/long-enough|other-secret|short"/.test(err.message),
      );
    });
  }

  it('TLS: a certificate and its key make the service https; a bad pair stops start-up naming the setting', () => {
    const good = makeSelfSignedCert('settings-tls');
    const other = makeSelfSignedCert('settings-tls-other');
    const s = loadSettings({ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: good.keyFile, PORT: '8443' });
    assert.ok(s.tls && s.tls.cert.equals(good.cert));
    assert.equal(s.PUBLIC_URL, 'https://127.0.0.1:8443');
    const cases: [Record<string, string>, RegExp][] = [
      [{ TLS_CERT_FILE: good.certFile }, /^setting TLS_KEY_FILE is required with TLS_CERT_FILE$/],
      [{ TLS_KEY_FILE: good.keyFile }, /^setting TLS_CERT_FILE is required with TLS_KEY_FILE$/],
      [{ TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: good.keyFile }, /^setting TLS_CERT_FILE names a file that cannot be read \(ENOENT/],
      [{ TLS_CERT_FILE: good.keyFile, TLS_KEY_FILE: good.keyFile }, /^setting TLS_CERT_FILE must name a PEM certificate/],
      [{ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: good.certFile }, /^setting TLS_KEY_FILE must name a PEM private key/],
      [{ TLS_CERT_FILE: good.certFile, TLS_KEY_FILE: other.keyFile }, /^setting TLS_KEY_FILE does not hold the key of TLS_CERT_FILE's certificate/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadSettings(env),
        (err: unknown) => err instanceof SettingsError && message.test(err.message),
        JSON.stringify(env),
      );
    }
  });
});

describe('the settings documented', () => {
  const ROOT = new URL('../../', import.meta.url).pathname;
  it('.env.example lists every setting and nothing else; the README names each', () => {
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    const listed = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    assert.deepEqual([...new Set(listed)].sort(), [...SETTING_NAMES].sort());
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.deepEqual(
      SETTING_NAMES.filter((name) => !readme.includes(`\`${name}\``)),
      [],
      'settings the README does not name',
    );
  });
});
