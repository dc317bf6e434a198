import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from '../../src/stack/binaries.ts';
import { waitFor } from '../../src/stack/ports.ts';

const RULES_DIR = join(REPO_ROOT, 'prometheus', 'rules');

/** The shipped rule files with every `for:` set to 0s, so an alert fires within seconds of its condition; written to runDir as `<prefix>-<file>`. */
export function rulesWithoutHoldTime(runDir: string, prefix: string): string[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yml'))
    .map((file) => {
      const rules = parse(readFileSync(join(RULES_DIR, file), 'utf8')) as { groups: Array<{ rules: Array<{ alert?: string; for?: string }> }> };
      for (const group of rules.groups) for (const rule of group.rules) if (rule.alert) rule.for = '0s';
      const out = join(runDir, `${prefix}-${file}`);
      writeFileSync(out, stringify(rules));
      return out;
    });
}

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
