/** JSON over HTTP to Prometheus and Alertmanager: a timeout on every call, responses validated. */
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
  { method = 'GET', body, timeoutMs, form }: { method?: string; body?: unknown; timeoutMs: number; form?: URLSearchParams },
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: form ? { 'content-type': 'application/x-www-form-urlencoded' } : body === undefined ? undefined : { 'content-type': 'application/json' },
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new UpstreamError(service, `${method} ${url} failed: ${reason}`);
  }
  const text = await response.text();
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
