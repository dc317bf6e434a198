/**
 * The session settings of Grafana's PostgreSQL login, read from the script that
 * creates it (grafana/postgres-init/10-grafana-reader.sql), so tests and
 * benchmarks run the dashboards' SQL under the same settings as Grafana.
 */
import { readFileSync } from 'node:fs';

export function grafanaReaderSettings(): Array<[name: string, value: string]> {
  const script = readFileSync(new URL('../postgres-init/10-grafana-reader.sql', import.meta.url), 'utf8');
  const settings = [...script.matchAll(/^ALTER ROLE grafana_reader SET (\w+) = ([^;]+);$/gm)].map((m): [string, string] => [m[1]!, m[2]!]);
  if (settings.length === 0) throw new Error('no ALTER ROLE grafana_reader SET … in grafana/postgres-init/10-grafana-reader.sql');
  return settings;
}
