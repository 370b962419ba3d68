// The URL policy (API.md "URL policy"): every notation of an address is judged as the address it is;
// only public addresses pass unless the allow-list opens a host, a host:port or a range.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkAddress, checkUrlTarget, classify, DEFAULT_POLICY, formatIp, parseAllowlist, parseIp } from '../../protocol/url-policy.js';

const cls = (host: string) => {
  const a = parseIp(host);
  assert.ok(a, `${host} is an address`);
  return classify(a);
};

describe('URL policy: addresses', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[64:ff9b::a9fe:a9fe]', 'link-local'], // NAT64 of 169.254.169.254
    ['[2002:a9fe:a9fe::1]', 'link-local'], // 6to4 of it
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['[fd00::1]', 'private'],
    ['[fc00::1]', 'private'],
    ['[::ffff:10.1.2.3]', 'private'],
    ['0', 'unspecified'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['[ff02::1]', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['[2606:4700::1111]', 'public'],
  ];
  for (const [host, want] of cases) {
    it(`${host} is ${want}`, () => assert.equal(cls(host), want));
  }

  it('names are not addresses', () => {
    for (const name of ['example.com', 'localhost', 'a-b.test', '127.0.0.1.nip.io']) assert.equal(parseIp(name), null, name);
  });

  it('every IPv4 notation of an address is that address (decimal, hex, octal, short forms)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const bytes = [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
        const dotted = bytes.join('.');
        const forms = [String(n), `0x${n.toString(16)}`, bytes.map((b) => `0${b.toString(8)}`).join('.'), `${bytes[0]}.${(bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!}`, `[::ffff:${dotted}]`];
        const want = classify(parseIp(dotted)!);
        for (const f of forms) {
          const a = parseIp(f);
          assert.ok(a, f);
          assert.equal(classify(a), want, `${f} (${dotted})`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('formats addresses the way the URL parser writes them', () => {
    assert.equal(formatIp(parseIp('2130706433')!), '127.0.0.1');
    assert.equal(formatIp(parseIp('[0:0:0:0:0:0:0:1]')!), '[::1]');
  });
});

describe('URL policy: targets and the allow-list', () => {
  const refused: string[] = [
    'http://127.0.0.1/',
    'http://localhost:8080/',
    'http://app.localhost/',
    'http://[::1]/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://[::ffff:127.0.0.1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/',
    'http://[fd00::1]/',
    'http://0/',
  ];
  for (const url of refused) {
    it(`refuses ${url} with the reason`, () => {
      const v = checkUrlTarget(DEFAULT_POLICY, url);
      assert.equal(v.ok, false);
      assert.match(!v.ok ? v.reason : '', /is a (loopback|link-local|private|unspecified) address|is this machine/);
    });
  }

  it('lets names through at Start (judged by their addresses at each connection) and public addresses', () => {
    for (const url of ['https://example.com/class', 'http://8.8.8.8/', 'https://[2606:4700::1111]/']) assert.deepEqual(checkUrlTarget(DEFAULT_POLICY, url), { ok: true }, url);
  });

  it('the allow-list opens an address, a host:port, a name and a range, and nothing else', () => {
    const p = parseAllowlist('127.0.0.2, 10.1.0.0/16, pages.internal:8080, [::1]:9000, localhost');
    assert.deepEqual(checkUrlTarget(p, 'http://127.0.0.2:5555/'), { ok: true });
    assert.equal(checkUrlTarget(p, 'http://127.0.0.3/').ok, false);
    assert.deepEqual(checkUrlTarget(p, 'http://10.1.200.3/'), { ok: true });
    assert.equal(checkUrlTarget(p, 'http://10.2.0.1/').ok, false);
    assert.deepEqual(checkUrlTarget(p, 'http://[::1]:9000/'), { ok: true });
    assert.equal(checkUrlTarget(p, 'http://[::1]:9001/').ok, false);
    assert.deepEqual(checkUrlTarget(p, 'http://localhost:3000/'), { ok: true });
    assert.deepEqual(checkAddress(p, parseIp('10.1.0.9')!, 443), { ok: true });
    assert.deepEqual(checkAddress(p, parseIp('169.254.169.254')!, 80), { ok: false, reason: '169.254.169.254 is a link-local address' });
  });

  it('refuses a malformed allow-list entry, naming it', () => {
    assert.throws(() => parseAllowlist('10.0.0.0/33'), /"10.0.0.0\/33" is not a CIDR/);
    assert.throws(() => parseAllowlist('pages.internal:99999'), /port outside/);
    assert.throws(() => parseAllowlist('http://x/'), /is not a host, host:port, address or CIDR/);
  });
});
