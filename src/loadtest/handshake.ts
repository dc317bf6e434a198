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

/**
 * The first problem of a library caller's handshake options, phrased with the
 * option names of the library API; null when they are fine.
 */
export function handshakeOptionsProblem(o: {
  url: string;
  headers?: Record<string, string> | undefined;
  token?: string | undefined;
  subprotocols?: readonly string[] | undefined;
}): string | null {
  const url = urlProblem(o.url);
  if (url) return `url: ${url}`;
  const headers = headersProblem(o.headers ?? {});
  if (headers) return `headers: ${headers}`;
  const subprotocols = subprotocolsProblem(o.subprotocols ?? []);
  if (subprotocols) return `subprotocols: ${subprotocols}`;
  if (o.token !== undefined) {
    const token = tokenProblem(o.token);
    if (token) return `token ${token}`;
    const auth = authorizationKeys(o.headers);
    // A token used to replace the header without a word: the run would test other credentials than given.
    if (auth.length > 0) return `token sets the Authorization header, so it cannot be combined with headers.${auth[0]}`;
  }
  return null;
}
