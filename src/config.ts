/**
 * The analytics service's configuration: environment variables (and a few
 * command-line flags that override them), validated with zod once at start.
 * CONFIG_VARIABLES is the one list; docs/configuration.md is rendered from it
 * (a unit test keeps the two equal).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url({ protocol: /^https?$/ }).optional());

const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value));

function integer(min: number, max: number) {
  return z.coerce.number().int().min(min).max(max);
}

/** The names Express' `trust proxy` knows for address ranges. */
const TRUST_PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP or an IP/prefix (with `netmask`, an IPv4/netmask too). */
function isAddressRange(entry: string, { netmask = false } = {}): boolean {
  if (isIP(entry) !== 0) return true;
  const [ip = '', range, ...rest] = entry.split('/');
  const version = isIP(ip);
  if (version === 0 || range === undefined || rest.length > 0) return false;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (version === 4 ? 32 : 128);
  return netmask && version === 4 && isIP(range) === 4;
}

/** One `trust proxy` address: a name, an IP, an IP/prefix, or an IPv4/netmask. */
const isProxyAddress = (entry: string): boolean => TRUST_PROXY_NAMES.has(entry) || isAddressRange(entry, { netmask: true });

/**
 * TRUST_PROXY → Express' `trust proxy`: false, a hop count, or a list of proxy addresses. `true`
 * is refused: it takes the left-most X-Forwarded-For entry, which any client writes, so rotating it
 * escapes the rate limits and picks the country (express-rate-limit also complains on stderr).
 */
export function parseTrustProxy(value: string, ctx: z.RefinementCtx): false | number | string[] {
  const text = value.trim();
  if (text === 'false') return false;
  if (/^\d+$/.test(text)) return Number(text);
  if (text === 'true') {
    ctx.addIssue({ code: 'custom', message: 'true would believe any X-Forwarded-For a client sends: give the number of proxies in front of the service (e.g. 1) or their addresses/CIDRs (e.g. loopback or 10.0.0.0/8)' });
    return z.NEVER;
  }
  const entries = text.split(',').map((e) => e.trim());
  const bad = entries.filter((e) => !isProxyAddress(e));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `not false, a hop count, or proxy addresses/CIDRs (loopback, linklocal, uniquelocal, IPs, IP/prefix): ${bad.map((e) => JSON.stringify(e)).join(', ')}` });
    return z.NEVER;
  }
  return entries;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** One CONNECTION_TEST_ALLOWED_HOSTS entry: a host name, an IP, or an IP/prefix. */
const isTestHostEntry = (entry: string): boolean => isAddressRange(entry) || HOST_NAME.test(entry);

/** CONNECTION_TEST_ALLOWED_HOSTS → the entries (lower case), or undefined when empty (no allow-list). */
export function parseAllowedHosts(value: string, ctx: z.RefinementCtx): string[] | undefined {
  const entries = value
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const bad = entries.filter((e) => !isTestHostEntry(e));
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `not host names, IPs or IP/prefix ranges: ${bad.map((e) => JSON.stringify(e)).join(', ')}` });
    return z.NEVER;
  }
  return entries.length > 0 ? entries : undefined;
}

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
/** Headers fetch sets itself or that would break the request: not configurable. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer']);

/**
 * PROMETHEUS_HEADERS / ALERTMANAGER_HEADERS → the headers (names lower-cased), in OTEL_EXPORTER_OTLP_HEADERS'
 * format: comma-separated `name=value`, values URL-encoded (a comma in a value is %2C).
 */
export function parseHeaders(value: string, ctx: z.RefinementCtx): Record<string, string> {
  const headers: Record<string, string> = {};
  const bad: string[] = [];
  const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? '' : entry.slice(0, eq).trim().toLowerCase();
    // An entry is named by its position and header name, never its value (a credential, often).
    const which = `entry ${index + 1}${name && HEADER_NAME.test(name) ? ` (${name})` : ''}`;
    let decoded: string | undefined;
    try {
      decoded = eq < 0 ? undefined : decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      bad.push(`${which}: the value is not URL-encoded correctly`);
      continue;
    }
    if (eq < 0 || decoded === undefined) bad.push(`${which}: not name=value`);
    else if (!HEADER_NAME.test(name)) bad.push(`${which}: not a header name`);
    else if (RESERVED_HEADERS.has(name)) bad.push(`${which}: ${name} is set by the HTTP client`);
    // eslint-disable-next-line no-control-regex -- control characters are what this rejects.
    else if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(decoded)) bad.push(`${which}: control characters in the value`);
    else if (name in headers) bad.push(`${which}: ${name} given twice`);
    else headers[name] = decoded;
  }
  if (bad.length > 0) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated name=value pairs with URL-encoded values (e.g. X-Scope-OrgID=tenant-1): ${bad.join('; ')}` });
    return z.NEVER;
  }
  return headers;
}

/** Whether a URL carries userinfo (user:password@), which the clients send as Basic authentication. */
function hasUserinfo(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}

interface Variable {
  env: string;
  key: string;
  flag?: string;
  default?: string;
  description: string;
  schema: z.ZodType;
  /** A credential: an error about it names its length, never its value. */
  secret?: boolean;
}

/**
 * What an error message shows of a value: errors go to stderr and into container logs, so never a
 * credential (a token, a header value) nor a URL's password.
 */
function shownValue(variable: Variable, raw: string): string {
  if (variable.secret) return `(${raw.length} characters, not shown)`;
  return JSON.stringify(raw.replace(/\/\/[^/@\s]*@/g, '//***@'));
}

/** pino's levels, for LOG_LEVEL and the commands' --log-level. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const CONFIG_VARIABLES = [
  { env: 'PORT', key: 'port', flag: '--port', default: '8080', schema: integer(0, 65535), description: 'HTTP port of the API and admin pages (0: any free port).' },
  { env: 'HOST', key: 'host', flag: '--host', default: '127.0.0.1', schema: z.string().min(1), description: 'Address to bind; `0.0.0.0` in containers.' },
  {
    env: 'DATABASE_URL',
    key: 'databaseUrl',
    flag: '--database-url',
    schema: optionalText.pipe(z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional()),
    description: 'PostgreSQL connection string. Absent: an embedded PostgreSQL (PGlite) in `SOCKETSCOPE_DATA_DIR`.',
  },
  { env: 'SOCKETSCOPE_DATA_DIR', key: 'dataDir', flag: '--data-dir', default: './.data', schema: z.string().min(1), description: 'Where the embedded database lives when `DATABASE_URL` is absent.' },
  {
    env: 'PROMETHEUS_URL',
    key: 'prometheusUrl',
    schema: optionalUrl,
    description:
      'Prometheus HTTP API base URL (server metrics, anomaly detection over metric streams); any compatible API (a Mimir/Cortex query frontend, Thanos, VictoriaMetrics). `user:password@` in it is sent as Basic authentication (and shown nowhere). Absent: those endpoints answer 503 `prometheus_not_configured`.',
  },
  {
    env: 'PROMETHEUS_HEADERS',
    key: 'prometheusHeaders',
    secret: true,
    default: '',
    schema: z.string().transform(parseHeaders),
    description:
      'Headers sent with every Prometheus call and readiness probe, as comma-separated `name=value` with URL-encoded values (the format of `OTEL_EXPORTER_OTLP_HEADERS`), e.g. `X-Scope-OrgID=tenant-1` for a multi-tenant Mimir or Cortex, or `Authorization=Bearer%20<token>` (not together with `user:password@` in the URL).',
  },
  { env: 'PROMETHEUS_TIMEOUT_MS', key: 'prometheusTimeoutMs', default: '10000', schema: integer(100, 300_000), description: 'Timeout of one Prometheus or Alertmanager HTTP call.' },
  {
    env: 'ALERTMANAGER_URL',
    key: 'alertmanagerUrl',
    schema: optionalUrl,
    description: 'Alertmanager base URL: anomalies are posted there as alerts, acknowledgements create silences there. `user:password@` in it is sent as Basic authentication (and shown nowhere).',
  },
  {
    env: 'ALERTMANAGER_HEADERS',
    key: 'alertmanagerHeaders',
    secret: true,
    default: '',
    schema: z.string().transform(parseHeaders),
    description: 'Headers sent with every Alertmanager call and readiness probe, in the format of `PROMETHEUS_HEADERS` (e.g. `X-Scope-OrgID=tenant-1` for the Mimir Alertmanager).',
  },
  { env: 'GRAFANA_URL', key: 'grafanaUrl', schema: optionalUrl, description: 'Grafana base URL: the admin pages link to the socketscope dashboards and to traces in Tempo.' },
  { env: 'COLLECTOR_HEALTH_URL', key: 'collectorHealthUrl', schema: optionalUrl, description: "The collector's health_check extension URL, reported by `/api/ws/health`." },
  {
    env: 'SOCKETSCOPE_ADMIN_TOKEN',
    key: 'adminToken',
    secret: true,
    schema: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
    description:
      'Bearer token of the admin API (at least 16 characters). Required when `HOST` is not a loopback address; absent on loopback, a token is generated for the run, written to `<SOCKETSCOPE_DATA_DIR>/admin-token` (mode 0600) and shown on the terminal, never logged.',
  },
  {
    env: 'ALERTMANAGER_WEBHOOK_TOKEN',
    key: 'webhookToken',
    secret: true,
    schema: optionalText.pipe(z.string().min(16).optional()),
    description:
      '`POST /api/ws/alerts/webhook` requires `Authorization: Bearer` with it (at least 16 characters; Alertmanager sends it through `http_config.authorization`). Required when `HOST` is not a loopback address, as `SOCKETSCOPE_ADMIN_TOKEN` is; absent on loopback, the webhook takes no token.',
  },
  {
    env: 'ALERT_STALE_AFTER_SECONDS',
    key: 'alertStaleAfterSeconds',
    default: '16200',
    schema: integer(60, 30 * 86_400),
    description:
      "Without `ALERTMANAGER_URL`: a firing alert the webhook has not delivered again for this long is listed by `GET /api/ws/alerts` as `stale` and left out of `active` (Alertmanager re-sends firing alerts every `repeat_interval`, but sends nothing for one that resolved while silenced or inhibited). Default: the longest `repeat_interval` of alertmanager/alertmanager.yml (4 h) plus 30 min. With `ALERTMANAGER_URL` the alerts are checked against Alertmanager instead.",
  },
  { env: 'WEBSOCKET_METRICS_RETENTION_DAYS', key: 'retentionDays', default: '30', schema: integer(1, 3650), description: 'Client report partitions older than this many days are dropped.' },
  { env: 'CORS_ORIGINS', key: 'corsOrigins', default: '', schema: z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)).pipe(z.array(z.url())), description: 'Comma-separated browser origins allowed to call the API (the web SDK’s pages).' },
  {
    env: 'TRUST_PROXY',
    key: 'trustProxy',
    default: 'false',
    schema: z.string().transform(parseTrustProxy),
    description:
      'Which `X-Forwarded-For` hops to believe for the client address (rate limits, geography): `false`, the number of proxies in front (e.g. `1`), or a comma-separated list of their addresses/CIDRs (or `loopback`, `linklocal`, `uniquelocal`). `true` is refused: it would believe whatever a client puts in the header.',
  },
  { env: 'TRUSTED_COUNTRY_HEADER', key: 'trustedCountryHeader', schema: optionalText.pipe(z.string().regex(/^[a-z0-9-]+$/i).optional()), description: 'A CDN header carrying the ISO country code (e.g. `cf-ipcountry`); used before the GeoIP lookup. Set only behind that CDN.' },
  { env: 'TRUSTED_REGION_HEADER', key: 'trustedRegionHeader', schema: optionalText.pipe(z.string().regex(/^[a-z0-9-]+$/i).optional()), description: 'A CDN header carrying the region/subdivision code (e.g. `cf-region-code`).' },
  {
    env: 'CONNECTION_TEST_ALLOWED_HOSTS',
    key: 'connectionTestAllowedHosts',
    default: '',
    schema: z.string().transform(parseAllowedHosts),
    description:
      "Comma-separated host names, IPs and IP/prefix ranges the admin pages' Testing tab may connect to (e.g. `ws.example.com,10.0.0.0/8`); nothing else is allowed. Empty: any host except link-local addresses (`169.254.0.0/16`, `fe80::/10`) and cloud metadata endpoints (`metadata.google.internal`…), checked after DNS resolution; the test then connects to the checked addresses only.",
  },
  { env: 'INGEST_RATE_LIMIT_PER_MINUTE', key: 'ingestRateLimit', default: '600', schema: integer(1, 10_000_000), description: 'Requests per minute per client address to `POST /api/ws/client-metrics`.' },
  { env: 'ADMIN_RATE_LIMIT_PER_MINUTE', key: 'adminRateLimit', default: '600', schema: integer(1, 10_000_000), description: 'Requests per minute per client address to the admin API.' },
  { env: 'WEBHOOK_RATE_LIMIT_PER_MINUTE', key: 'webhookRateLimit', default: '600', schema: integer(1, 10_000_000), description: 'Requests per minute per client address to `POST /api/ws/alerts/webhook`.' },
  { env: 'ANOMALY_INTERVAL_SECONDS', key: 'anomalyIntervalSeconds', default: '300', schema: integer(0, 86_400), description: 'How often anomaly detection runs (0: never).' },
  { env: 'ROLLUP_INTERVAL_SECONDS', key: 'rollupIntervalSeconds', default: '60', schema: integer(0, 86_400), description: 'How often complete hours (and then complete days) of client reports are rolled up for fast long-range reads (0: never; reads then scan raw rows).' },
  { env: 'MAINTENANCE_INTERVAL_SECONDS', key: 'maintenanceIntervalSeconds', default: '3600', schema: integer(0, 86_400), description: 'How often partitions are created ahead and expired ones dropped (0: only at start).' },
  { env: 'GEO_MIN_CLIENTS', key: 'geoMinClients', default: '10', schema: integer(1, 1_000_000), description: 'Countries and regions with fewer distinct clients are folded into `other` (default of the `min_clients` query parameter).' },
  { env: 'QUERY_TIMEOUT_MS', key: 'queryTimeoutMs', default: '30000', schema: integer(100, 3_600_000), description: 'Longest a summary, geographic or UX-correlation read may run in PostgreSQL (`statement_timeout` per read); past it the request gets 503 `query_timeout` and the connection goes back to the pool.' },
  { env: 'CORRELATION_MIN_N', key: 'correlationMinN', default: '10', schema: integer(3, 1_000_000), description: 'Pairs below this sample size are reported with status `insufficient_data`.' },
  { env: 'LOG_LEVEL', key: 'logLevel', flag: '--log-level', default: 'info', schema: z.enum(LOG_LEVELS), description: 'pino log level.' },
] as const satisfies readonly Variable[];

type VariableOf<K> = Extract<(typeof CONFIG_VARIABLES)[number], { key: K }>;
export type Config = { [V in (typeof CONFIG_VARIABLES)[number] as V['key']]: z.output<VariableOf<V['key']>['schema']> };

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A value that was given: undefined when absent or blank. */
const given = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/**
 * Reads the configuration from `env`, with `overrides` (flags, keyed by config
 * key) taking precedence; a blank value counts as unset, so the default applies.
 * Throws ConfigError naming every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Record<string, string | undefined>> = {}): Config {
  const out: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const variable of CONFIG_VARIABLES as readonly Variable[]) {
    // Blank (empty or only spaces) is unset: `VAR: ${VAR}` in compose or Helm hands an unset variable
    // over as "", and z.coerce.number() would read it as 0 (PORT any free port, an interval 0 = off).
    const raw = given(overrides[variable.key]) ?? given(env[variable.env]) ?? variable.default;
    if (raw === undefined) {
      out[variable.key] = undefined;
      continue;
    }
    const parsed = variable.schema.safeParse(raw);
    if (parsed.success) out[variable.key] = parsed.data;
    else issues.push(`${variable.env}=${shownValue(variable, raw)}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  // Two sources of one Authorization header: which was meant is not ours to guess.
  for (const name of ['prometheus', 'alertmanager'] as const) {
    const headers = out[`${name}Headers`] as Record<string, string> | undefined;
    if (hasUserinfo(out[`${name}Url`]) && headers?.authorization !== undefined) {
      const env = name.toUpperCase();
      issues.push(`${env}_URL has user:password@ and ${env}_HEADERS an Authorization header: give the credentials one way`);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return out as Config;
}

/** The Markdown table of docs/configuration.md. */
export function renderConfigTable(): string {
  const rows = (CONFIG_VARIABLES as readonly Variable[]).map(
    (v) => `| \`${v.env}\` | ${v.flag ? `\`${v.flag}\`` : ''} | ${v.default === undefined ? '—' : v.default === '' ? '(empty)' : `\`${v.default}\``} | ${v.description} |`,
  );
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
