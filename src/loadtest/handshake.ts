/**
 * Checks of what goes into an opening handshake (URL, headers, subprotocols,
 * token), run where options come in, so a bad value is an option error rather
 * than a crashed load worker or a "failed" connection test. Each returns a
 * sentence, or null when the value is fine; callers prefix the option's name.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';

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
