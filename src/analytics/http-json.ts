/**
 * JSON over HTTP to Prometheus and Alertmanager: a timeout on every call, combined with the caller's
 * signal when there is one (a scheduled task's, aborted on shutdown); responses validated.
 */
import type { z } from 'zod';

export class UpstreamError extends Error {
  constructor(
    readonly service: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${service}: ${message}`);
    this.name = 'UpstreamError';
  }
}

/** Where an upstream is reached: its base URL without credentials, and the headers every call and probe sends. */
export interface Upstream {
  baseUrl: string;
  headers: Record<string, string>;
}

/**
 * The base URL's userinfo (`http://user:pass@host`) becomes a Basic Authorization header, and leaves the
 * URL: fetch refuses a URL with credentials, and the URL appears in errors and logs. `headers` (e.g.
 * Mimir's X-Scope-OrgID) are sent as well; an Authorization among them is not combined with userinfo
 * (config.ts refuses both at once).
 */
export function upstream(url: string, headers: Readonly<Record<string, string>> = {}): Upstream {
  const parsed = new URL(url);
  const out = { ...headers };
  if (parsed.username !== '' || parsed.password !== '') {
    const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
    out.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
    parsed.username = '';
    parsed.password = '';
  }
  return { baseUrl: parsed.href.replace(/\/$/, ''), headers: out };
}

export async function fetchJson<T>(
  service: string,
  url: string,
  schema: z.ZodType<T>,
  {
    method = 'GET',
    body,
    timeoutMs,
    form,
    signal,
    headers = {},
  }: { method?: string; body?: unknown; timeoutMs: number; form?: URLSearchParams; signal?: AbortSignal; headers?: Readonly<Record<string, string>> },
): Promise<T> {
  const failed = (error: unknown) => {
    const reason = signal?.aborted
      ? `aborted: ${(signal.reason as Error | undefined)?.message ?? 'aborted'}`
      : (error as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (error as Error).message;
    return new UpstreamError(service, `${method} ${url} failed: ${reason}`);
  };
  const deadline = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method,
      headers: { ...headers, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
    });
    // The body too is under the signal: headers then silence is no answer either.
    text = await response.text();
  } catch (error) {
    throw failed(error);
  }
  let json: unknown;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new UpstreamError(service, `${method} ${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`, response.status);
  }
  if (!response.ok) {
    const detail = (json as { error?: string } | null)?.error ?? text.slice(0, 200);
    throw new UpstreamError(service, `${method} ${url} answered ${response.status}: ${detail}`, response.status);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new UpstreamError(service, `unexpected response from ${url}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, response.status);
  return parsed.data;
}

/** GET that answers whether the URL is reachable and 2xx. */
export async function probe(url: string, timeoutMs: number, headers: Readonly<Record<string, string>> = {}): Promise<{ ok: boolean; detail: string }> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: response.ok, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message };
  }
}
