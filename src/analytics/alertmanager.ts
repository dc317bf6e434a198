/** Alertmanager API v2 client: post alerts, list them, create silences. */
import { z } from 'zod';
import { fetchJson, probe, upstream } from './http-json.ts';

export interface PostableAlert {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

const gettableAlert = z.object({
  fingerprint: z.string(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  startsAt: z.string(),
  endsAt: z.string(),
  updatedAt: z.string().optional(),
  generatorURL: z.string().optional(),
  status: z.object({ state: z.string(), silencedBy: z.array(z.string()), inhibitedBy: z.array(z.string()) }),
});
export type GettableAlert = z.infer<typeof gettableAlert>;

const gettableSilence = z.object({
  id: z.string(),
  matchers: z.array(z.object({ name: z.string(), value: z.string(), isRegex: z.boolean(), isEqual: z.boolean().optional() })),
  startsAt: z.string(),
  endsAt: z.string(),
  createdBy: z.string(),
  comment: z.string(),
  status: z.object({ state: z.string() }),
});
export type GettableSilence = z.infer<typeof gettableSilence>;

export class AlertmanagerClient {
  /** The URL without credentials (its userinfo is sent as a Basic Authorization header). */
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;

  /** `headers` (ALERTMANAGER_HEADERS) go with every call and the readiness probe. */
  constructor(
    url: string,
    private readonly timeoutMs: number,
    headers: Readonly<Record<string, string>> = {},
  ) {
    ({ baseUrl: this.baseUrl, headers: this.headers } = upstream(url, headers));
  }

  private url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  async postAlerts(alerts: readonly PostableAlert[], signal?: AbortSignal): Promise<void> {
    if (alerts.length === 0) return;
    await fetchJson('alertmanager', this.url('/api/v2/alerts'), z.unknown(), { method: 'POST', body: alerts, timeoutMs: this.timeoutMs, headers: this.headers, signal });
  }

  async alerts({ active = true, silenced = true }: { active?: boolean; silenced?: boolean } = {}): Promise<GettableAlert[]> {
    const query = new URLSearchParams({ active: String(active), silenced: String(silenced), inhibited: 'true' });
    return fetchJson('alertmanager', this.url(`/api/v2/alerts?${query}`), z.array(gettableAlert), { timeoutMs: this.timeoutMs, headers: this.headers });
  }

  /**
   * Creates a silence, or with `id` replaces that one. Alertmanager updates it in place (same id) when the
   * matchers are the same and, for an active silence, the start too; otherwise it expires it and creates
   * a new one (a new id). Returns the id of the silence that now holds.
   */
  async createSilence(silence: { id?: string; matchers: Matcher[]; startsAt: Date; endsAt: Date; createdBy: string; comment: string }): Promise<string> {
    const body = await fetchJson('alertmanager', this.url('/api/v2/silences'), z.object({ silenceID: z.string() }), {
      method: 'POST',
      body: { ...silence, startsAt: silence.startsAt.toISOString(), endsAt: silence.endsAt.toISOString() },
      timeoutMs: this.timeoutMs,
      headers: this.headers,
    });
    return body.silenceID;
  }

  /** Expires a silence (`DELETE /api/v2/silence/{id}`). */
  async expireSilence(id: string): Promise<void> {
    await fetchJson('alertmanager', this.url(`/api/v2/silence/${encodeURIComponent(id)}`), z.unknown(), { method: 'DELETE', timeoutMs: this.timeoutMs, headers: this.headers });
  }

  async silence(id: string): Promise<GettableSilence> {
    return fetchJson('alertmanager', this.url(`/api/v2/silence/${encodeURIComponent(id)}`), gettableSilence, { timeoutMs: this.timeoutMs, headers: this.headers });
  }

  ready(): Promise<{ ok: boolean; detail: string }> {
    return probe(this.url('/-/ready'), Math.min(this.timeoutMs, 3_000), this.headers);
  }
}
