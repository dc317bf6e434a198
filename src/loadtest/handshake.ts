/**
 * Checks of what goes into an opening handshake (URL, headers, subprotocols,
 * token), run where options come in, so a bad value is an option error rather
 * than a crashed load worker or a "failed" connection test. Each returns a
 * sentence, or null when the value is fine; callers prefix the option's name.
 * Also where a handshake may connect to: addresses pinned by the caller.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { z } from 'zod';

/** An address a caller has resolved and checked; connections go there and nowhere else. */
export const resolvedAddressSchema = z.strictObject({
  address: z.string().refine((a) => isIP(a) !== 0, 'must be an IP address'),
  family: z.union([z.literal(4), z.literal(6)]),
});
export type ResolvedAddress = z.output<typeof resolvedAddressSchema>;

/**
 * A `lookup` for net/tls that answers with `addresses` whatever the name:
 * the connection reaches the addresses that were checked, not what a second
 * resolution says (DNS rebinding). The URL's host still goes into the Host
 * header, TLS SNI and the certificate check.
 */
export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    const wanted = family === 0 ? addresses : addresses.filter((a) => a.family === family);
    const first = wanted[0];
    if (!first) callback(Object.assign(new Error(`none of the checked addresses is IPv${family}`), { code: 'ENOTFOUND' }), '', 0);
    else if (options.all) callback(null, wanted.map((a) => ({ ...a })));
    else callback(null, first.address, first.family);
  };
}

/** RFC 6455 §4.1: each subprotocol is a token (RFC 7230), and ws refuses duplicates. */
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** ws refuses a URL with a fragment (RFC 6455 §3) when the socket is created, i.e. inside a worker. */
export function urlProblem(url: string): string | null {
  return url.includes('#') ? 'must not contain a fragment (#…)' : null;
}

export function headerProblem(name: string, value: string): string | null {
  try {
    validateHeaderName(name);
  } catch {
    return `"${name}" is not a valid header name`;
  }
  try {
    validateHeaderValue(name, value);
  } catch {
    return `the value of "${name}" has characters a header cannot carry`;
  }
  return null;
}

export function headersProblem(headers: Record<string, string>): string | null {
  for (const [name, value] of Object.entries(headers)) {
    const problem = headerProblem(name, value);
    if (problem) return problem;
  }
  return null;
}

export function subprotocolsProblem(subprotocols: readonly string[]): string | null {
  const seen = new Set<string>();
  for (const protocol of subprotocols) {
    if (!SUBPROTOCOL.test(protocol)) return `"${protocol}" is not a valid subprotocol name (an RFC 6455 token)`;
    if (seen.has(protocol)) return `"${protocol}" is given twice`;
    seen.add(protocol);
  }
  return null;
}

export function tokenProblem(token: string): string | null {
  return headerProblem('authorization', `Bearer ${token}`) ? 'has characters a header cannot carry' : null;
}

/** The header names in `headers` that a token would replace (any case). */
export function authorizationKeys(headers: Record<string, string> | undefined): string[] {
  return Object.keys(headers ?? {}).filter((name) => name.toLowerCase() === 'authorization');
}

/** How problems name the options: the library API's names, or the CLI's flags. */
export interface HandshakeOptionNames {
  url: string;
  headers: string;
  token: string;
  subprotocols: string;
  /** Refuses a token next to an Authorization header named `header`. */
  tokenWithAuthorization(header: string): string;
}

export const LIBRARY_OPTION_NAMES: HandshakeOptionNames = {
  url: 'url: ',
  headers: 'headers: ',
  token: 'token ',
  subprotocols: 'subprotocols: ',
  tokenWithAuthorization: (header) => `token sets the Authorization header, so it cannot be combined with headers.${header}`,
};

/**
 * The first problem of handshake options, phrased with `names`; null when
 * they are fine.
 */
export function handshakeOptionsProblem(
  o: {
    url: string;
    headers?: Record<string, string> | undefined;
    token?: string | undefined;
    subprotocols?: readonly string[] | undefined;
  },
  names: HandshakeOptionNames = LIBRARY_OPTION_NAMES,
): string | null {
  const url = urlProblem(o.url);
  if (url) return `${names.url}${url}`;
  const headers = headersProblem(o.headers ?? {});
  if (headers) return `${names.headers}${headers}`;
  if (o.token !== undefined) {
    const token = tokenProblem(o.token);
    if (token) return `${names.token}${token}`;
    const auth = authorizationKeys(o.headers);
    // A token used to replace the header without a word: the run would test other credentials than given.
    if (auth.length > 0) return names.tokenWithAuthorization(auth[0] as string);
  }
  const subprotocols = subprotocolsProblem(o.subprotocols ?? []);
  if (subprotocols) return `${names.subprotocols}${subprotocols}`;
  return null;
}
