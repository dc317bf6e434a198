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

export async function fetchJson<T>(
  service: string,
  url: string,
  schema: z.ZodType<T>,
  { method = 'GET', body, timeoutMs, form, signal }: { method?: string; body?: unknown; timeoutMs: number; form?: URLSearchParams; signal?: AbortSignal },
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
      headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : body === undefined ? undefined : { 'content-type': 'application/json' },
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
export async function probe(url: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { ok: response.ok, detail: `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, detail: (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message };
  }
}
