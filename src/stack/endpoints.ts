import { readFileSync } from 'node:fs';

/**
 * The shipped configs (prometheus/, alertmanager/, otel-collector-config.yaml)
 * are written for docker-compose, where services reach each other by service
 * name (`otel-collector:8889`). Natively every service runs on 127.0.0.1 on a
 * free port, so the same file is used with only those endpoints replaced.
 * A mapping whose key is absent from the file is an error: the config and the
 * stack drifted apart.
 */
export function substituteEndpoints(text: string, endpoints: Record<string, string>, source = 'config'): string {
  let out = text;
  for (const [from, to] of Object.entries(endpoints)) {
    if (!out.includes(from)) throw new Error(`${source} does not mention the endpoint ${from}`);
    out = out.split(from).join(to);
  }
  return out;
}

export function readWithEndpoints(file: string, endpoints: Record<string, string>): string {
  return substituteEndpoints(readFileSync(file, 'utf8'), endpoints, file);
}
