/**
 * The browser metrics socketscope emits: the one place their names, units,
 * attributes and bucket advice live. The OTel export creates its instruments
 * from this list; the repository's catalogue (src/catalogue.ts) aggregates it
 * with the server SDK's for rules, dashboards and docs.
 *
 * Attributes are bounded enumerations only (see ./attributes.ts for the values);
 * never session ids, URLs or free-form message types.
 */
/** Attribute keys; their values are bounded enumerations (./attributes.ts). */
export const ATTR = {
  closeCodeClass: 'websocket.close_code.class',
  dropReason: 'websocket.drop.reason',
  requestOutcome: 'websocket.request.outcome',
  errorType: 'error.type',
  ioDirection: 'network.io.direction',
  connectionType: 'network.connection.type',
  effectiveType: 'network.connection.effective_type',
  vitalRating: 'browser.web_vital.rating',
} as const;

/** Same shape as the server SDK's catalogue entry. */
export interface MetricDefinition {
  /** OTel name, e.g. 'websocket.client.connection.drops'. */
  name: string;
  instrument: 'counter' | 'updowncounter' | 'histogram' | 'gauge';
  /** UCUM: 's', 'By', '{connection}', '{message}', '{attempt}'. */
  unit: string;
  description: string;
  /** Bounded attribute keys only. */
  attributes: readonly string[];
  /** Bucket advice in the metric's unit (seconds for durations). */
  buckets?: readonly number[];
}

const NETWORK = [ATTR.connectionType, ATTR.effectiveType];
const LATENCY_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const PAGE_S = [0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 6, 8, 12, 20] as const;

// Browsers export deltas that the collector sums across sessions, so every
// instrument here is a counter or a histogram: a per-session gauge or
// up-down counter cannot be summed meaningfully (live connection counts come
// from the server SDK).
const DEFINITIONS = {
  attempts: {
    name: 'websocket.client.connection.attempts',
    instrument: 'counter',
    unit: '{attempt}',
    description: 'Connection attempts: the first connection and every reconnection.',
    attributes: NETWORK,
  },
  opened: {
    name: 'websocket.client.connection.opened',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Connections that completed the opening handshake.',
    attributes: NETWORK,
  },
  closed: {
    name: 'websocket.client.connection.closed',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Established connections that ended, by close code class.',
    attributes: [ATTR.closeCodeClass],
  },
  drops: {
    name: 'websocket.client.connection.drops',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Established connections lost without the app closing them.',
    attributes: [ATTR.closeCodeClass, ...NETWORK],
  },
  reconnectAttempts: {
    name: 'websocket.client.reconnect.attempts',
    instrument: 'counter',
    unit: '{attempt}',
    description: 'Connection attempts made to recover from a drop or a failed attempt.',
    attributes: NETWORK,
  },
  reconnectSuccesses: {
    name: 'websocket.client.reconnect.successes',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Reconnection attempts that opened a connection.',
    attributes: NETWORK,
  },
  connectDuration: {
    name: 'websocket.client.connect.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time from creating the socket to the open event (successful attempts).',
    attributes: NETWORK,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  connectionDuration: {
    name: 'websocket.client.connection.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Lifetime of established connections, recorded when they close.',
    attributes: [ATTR.closeCodeClass],
    buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800],
  },
  outageDuration: {
    name: 'websocket.client.outage.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time from a drop to the reconnection that ended it.',
    attributes: NETWORK,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  },
  sent: {
    name: 'websocket.client.sent.messages',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages handed to an open socket.',
    attributes: [],
  },
  received: {
    name: 'websocket.client.received.messages',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages received (heartbeat replies excluded).',
    attributes: [],
  },
  io: {
    name: 'websocket.client.io',
    instrument: 'counter',
    unit: 'By',
    description: 'Payload bytes sent and received (UTF-8 length for text).',
    attributes: [ATTR.ioDirection],
  },
  queued: {
    name: 'websocket.client.queued.messages',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages queued because the socket was not open when the app sent them.',
    attributes: [],
  },
  dropped: {
    name: 'websocket.client.dropped.messages',
    instrument: 'counter',
    unit: '{message}',
    description: 'Outgoing messages discarded: queue full, expired in the queue, or socket closed.',
    attributes: [ATTR.dropReason],
  },
  errors: {
    name: 'websocket.client.errors',
    instrument: 'counter',
    unit: '{error}',
    description: 'Errors: failed connection attempts, socket errors, failed sends, heartbeat timeouts.',
    attributes: [ATTR.errorType],
  },
  rtt: {
    name: 'websocket.client.rtt',
    instrument: 'histogram',
    unit: 's',
    description: 'Round-trip time of the app-level heartbeat (browsers hide protocol pings).',
    attributes: NETWORK,
    buckets: LATENCY_S,
  },
  requestDuration: {
    name: 'websocket.client.request.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time from sending a request message to its response or timeout.',
    attributes: [ATTR.requestOutcome],
    buckets: LATENCY_S,
  },
  page_load: {
    name: 'browser.page.load.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Navigation start to the end of the load event (Navigation Timing).',
    attributes: [],
    buckets: PAGE_S,
  },
  lcp: {
    name: 'browser.web_vital.lcp',
    instrument: 'histogram',
    unit: 's',
    description: 'Largest Contentful Paint (web-vitals).',
    attributes: [ATTR.vitalRating],
    buckets: PAGE_S,
  },
  fcp: {
    name: 'browser.web_vital.fcp',
    instrument: 'histogram',
    unit: 's',
    description: 'First Contentful Paint (web-vitals).',
    attributes: [ATTR.vitalRating],
    buckets: PAGE_S,
  },
  ttfb: {
    name: 'browser.web_vital.ttfb',
    instrument: 'histogram',
    unit: 's',
    description: 'Time to First Byte (web-vitals).',
    attributes: [ATTR.vitalRating],
    buckets: PAGE_S,
  },
  inp: {
    name: 'browser.web_vital.inp',
    instrument: 'histogram',
    unit: 's',
    description: 'Interaction to Next Paint (web-vitals).',
    attributes: [ATTR.vitalRating],
    buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
  },
  cls: {
    name: 'browser.web_vital.cls',
    instrument: 'histogram',
    unit: '1',
    description: 'Cumulative Layout Shift score (web-vitals).',
    attributes: [ATTR.vitalRating],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1],
  },
  interactions: {
    name: 'browser.interactions',
    instrument: 'counter',
    unit: '{interaction}',
    description: 'User interactions: pointer presses and key presses (repeats excluded).',
    attributes: [],
  },
  pageErrors: {
    name: 'browser.errors',
    instrument: 'counter',
    unit: '{error}',
    description: 'Uncaught errors and unhandled promise rejections on the page.',
    attributes: [],
  },
} satisfies Record<string, MetricDefinition>;

/** The client metrics by key, for the code that records them. */
export const CLIENT_METRIC: Readonly<Record<keyof typeof DEFINITIONS, MetricDefinition>> = DEFINITIONS;
export type ClientMetricKey = keyof typeof DEFINITIONS;

export const CLIENT_METRICS: readonly MetricDefinition[] = Object.values(DEFINITIONS);
