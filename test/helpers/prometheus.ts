import { waitFor } from '../../src/stack/ports.ts';

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant PromQL query; throws on a query error. */
export async function promQuery(prometheusUrl: string, query: string): Promise<PromSample[]> {
  const response = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { status: string; error?: string; data?: { result: PromSample[] } };
  if (body.status !== 'success') throw new Error(`query ${query} failed: ${body.error}`);
  return body.data?.result ?? [];
}

/** Polls until the query returns at least one sample (Prometheus discovers targets every few seconds). */
export async function waitForSamples(prometheusUrl: string, query: string, timeoutMs = 45_000): Promise<PromSample[]> {
  let result: PromSample[] = [];
  await waitFor(`Prometheus to return data for ${query}`, async () => {
    result = await promQuery(prometheusUrl, query);
    return result.length > 0;
  }, { timeoutMs, intervalMs: 250 });
  return result;
}
