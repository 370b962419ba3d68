// The URL policy of API.md (server-side request forgery): which addresses the service and its browser
// may connect to. Pure and web-standard: the edge checks address literals at Start with it, the
// recorder's egress proxy and the callback sender check every resolved address of every connection.
// Notations are read the way the WHATWG URL parser (and so the browser) reads them: `127.1`,
// `2130706433`, `0x7f000001`, `[::ffff:127.0.0.1]` are all 127.0.0.1.

export type Address = { v: 4; bytes: number[] } | { v: 6; bytes: number[] };

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'multicast' | 'broadcast' | 'reserved';

type Cidr = { addr: Address; bits: number };
type AllowEntry = { kind: 'host'; host: string; port?: number } | { kind: 'cidr'; cidr: Cidr; port?: number };
export type UrlPolicy = { allow: readonly AllowEntry[] };

export const DEFAULT_POLICY: UrlPolicy = { allow: [] };

export type Verdict = { ok: true } | { ok: false; reason: string };

// IPv4 ranges outside the policy, most specific first (API.md "URL policy").
const V4_RANGES: [string, number, AddressClass][] = [
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'],
  ['169.254.0.0', 16, 'link-local'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6_RANGES: [string, number, AddressClass][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // site-local, deprecated but routable inside
  ['fc00::', 7, 'private'],
  ['ff00::', 8, 'multicast'],
];
// IPv6 forms that carry an IPv4 address: judged by that address.
const V6_EMBEDDING: [string, number, number][] = [
  ['::ffff:0:0', 96, 12], // IPv4-mapped
  ['::', 96, 12], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96, 12], // NAT64
  ['2002::', 16, 2], // 6to4
];

const parsedV4 = V4_RANGES.map(([a, bits, cls]) => ({ cidr: { addr: parseIp(a)!, bits }, cls }));
const parsedV6 = V6_RANGES.map(([a, bits, cls]) => ({ cidr: { addr: parseIp(a)!, bits }, cls }));
const parsedEmbedding = V6_EMBEDDING.map(([a, bits, at]) => ({ cidr: { addr: parseIp(a)!, bits }, at }));

/**
 * An IP address in any notation a URL host may have (with or without brackets), canonicalized the way
 * the URL parser does; null for a name.
 */
export function parseIp(host: string): Address | null {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.includes(':')) return parseV6(h);
  // The URL parser turns every IPv4 notation into dotted decimal; a name stays a name.
  let canonical: string;
  try {
    canonical = new URL(`http://${h}/`).hostname;
  } catch {
    return null;
  }
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(canonical);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? { v: 4, bytes } : null;
}

function parseV6(text: string): Address | null {
  let canonical: string;
  try {
    canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
  const [head = '', tail] = canonical.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (all.length !== 8 || !all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return { v: 6, bytes: all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]) };
}

export function formatIp(a: Address): string {
  if (a.v === 4) return a.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a.bytes[i]! << 8) | a.bytes[i + 1]!).toString(16));
  // The URL parser writes it the short way.
  return new URL(`http://[${groups.join(':')}]/`).hostname;
}

function inCidr(a: Address, c: Cidr): boolean {
  if (a.v !== c.addr.v) return false;
  let bits = c.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a.bytes[i]! & mask) !== (c.addr.bytes[i]! & mask)) return false;
  }
  return true;
}

export function classify(a: Address): AddressClass {
  if (a.v === 4) return parsedV4.find((r) => inCidr(a, r.cidr))?.cls ?? 'public';
  // `::` and `::1` are themselves, not the IPv4-compatible 0.0.0.0 and 0.0.0.1.
  const exact = parsedV6.find((r) => r.cidr.bits === 128 && inCidr(a, r.cidr));
  if (exact) return exact.cls;
  const embedding = parsedEmbedding.find((e) => inCidr(a, e.cidr));
  if (embedding) return classify({ v: 4, bytes: a.bytes.slice(embedding.at, embedding.at + 4) });
  return parsedV6.find((r) => inCidr(a, r.cidr))?.cls ?? 'public';
}

/** `URL_ALLOWLIST`: comma-separated host names, `host:port`s, IP addresses and CIDRs. */
export function parseAllowlist(text: string): UrlPolicy {
  const allow = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry): AllowEntry => {
      const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
      if (cidr) {
        const addr = parseIp(cidr[1]!);
        const bits = Number(cidr[2]);
        if (!addr || bits > (addr.v === 4 ? 32 : 128)) throw new Error(`${JSON.stringify(entry)} is not a CIDR`);
        return { kind: 'cidr', cidr: { addr, bits } };
      }
      const { host, port } = splitHostPort(entry);
      const addr = parseIp(host);
      if (addr) return { kind: 'cidr', cidr: { addr, bits: addr.v === 4 ? 32 : 128 }, port };
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(host)) {
        throw new Error(`${JSON.stringify(entry)} is not a host, host:port, address or CIDR`);
      }
      return { kind: 'host', host: host.toLowerCase(), port };
    });
  return { allow };
}

function splitHostPort(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ? portOf(entry, bracketed[2]) : undefined };
  const m = /^([^:]+):(\d+)$/.exec(entry);
  if (m) return { host: m[1]!, port: portOf(entry, m[2]!) };
  return { host: entry };
}

function portOf(entry: string, text: string): number {
  const port = Number(text);
  if (port < 1 || port > 65535) throw new Error(`${JSON.stringify(entry)} has a port outside [1, 65535]`);
  return port;
}

/** Whether the allow-list names this host (a name as written in the URL) on this port. */
export function allowsName(policy: UrlPolicy, host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return policy.allow.some((e) => e.kind === 'host' && e.host === h && (e.port === undefined || e.port === port));
}

/** Whether a connection to this address and port is within the policy, and if not, why. */
export function checkAddress(policy: UrlPolicy, address: Address, port: number): Verdict {
  if (policy.allow.some((e) => e.kind === 'cidr' && inCidr(address, e.cidr) && (e.port === undefined || e.port === port))) return { ok: true };
  const cls = classify(address);
  return cls === 'public' ? { ok: true } : { ok: false, reason: `${formatIp(address)} is a ${cls} address` };
}

/** The port a URL connects to: its own, or its scheme's. */
export function portOfUrl(u: URL): number {
  return u.port ? Number(u.port) : u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80;
}

/** Names that always mean this machine (RFC 6761), whatever a resolver says. */
export function isLocalhostName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * What can be judged of a URL without resolving it: an address literal, or a localhost name. Names are
 * judged again at every connection, by their resolved addresses.
 */
export function checkUrlTarget(policy: UrlPolicy, url: string): Verdict {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  const port = portOfUrl(u);
  if (allowsName(policy, u.hostname, port)) return { ok: true };
  const address = parseIp(u.hostname);
  if (address) return checkAddress(policy, address, port);
  if (isLocalhostName(u.hostname)) return { ok: false, reason: `${u.hostname} is this machine (a loopback name)` };
  return { ok: true };
}
