// Name resolution under the URL policy: every address a name resolves to is checked, and the
// connection is made to the addresses checked (the lookup is the socket's own, so a name that resolves
// differently a second time gains nothing). Used by the callback sender and the browser's egress proxy.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { allowsName, checkAddress, formatIp, parseIp, type UrlPolicy } from '../protocol/url-policy.js';

export class PolicyBlocked extends Error {
  readonly code = 'EPOLICY';
  constructor(readonly reason: string) {
    super(`blocked by the URL policy: ${reason}`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for net/http/https connections to `port` that refuses addresses outside the policy. */
export function guardedLookup(policy: UrlPolicy, port: number) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    resolveChecked(policy, hostname, port).then(
      (addresses) => {
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, []),
    );
  };
}

/**
 * Every address of `hostname`, when each is within the policy (or the allow-list names the host);
 * PolicyBlocked naming the first that is not.
 */
export function resolveChecked(policy: UrlPolicy, hostname: string, port: number): Promise<LookupAddress[]> {
  const named = allowsName(policy, hostname, port);
  const literal = parseIp(hostname);
  if (literal) {
    const v = named ? { ok: true as const } : checkAddress(policy, literal, port);
    if (!v.ok) return Promise.reject(new PolicyBlocked(v.reason));
    return Promise.resolve([{ address: formatIp(literal).replace(/^\[|\]$/g, ''), family: literal.v }]);
  }
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err) return reject(err);
      for (const a of named ? [] : addresses) {
        const v = checkAddress(policy, parseIp(a.address)!, port);
        if (!v.ok) return reject(new PolicyBlocked(`${hostname} resolves to ${v.reason}`));
      }
      if (!addresses.length) return reject(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }));
      resolve(addresses);
    });
  });
}
