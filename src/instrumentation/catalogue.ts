/**
 * The server SDK's metric catalogue: the one place a server metric's name,
 * instrument, unit, attributes and bucket advice live. The SDK creates its
 * instruments from it; docs/metrics.md, the Prometheus rules tests, the
 * dashboards and the analytics queries read it through src/catalogue.ts.
 *
 * Names are a contract: renaming one breaks every rule and panel built on it.
 */
import type { MetricOptions } from '@opentelemetry/api';
import { CLOSE_CODE_CLASSES, CLOSE_ERROR_TYPES } from './close-codes.ts';
import {
  ATTR_AUTH_FAILURE_REASON,
  ATTR_CHANNEL,
  ATTR_CLOSE_CODE_CLASS,
  ATTR_ERROR_TYPE,
  ATTR_FRAME_TYPE,
  ATTR_MESSAGE_TYPE,
  ATTR_NETWORK_IO_DIRECTION,
  AUTH_FAILURE_REASONS,
  FRAME_TYPES,
  IO_DIRECTIONS,
  LATENCY_ANOMALIES,
  MESSAGE_ERROR_TYPES,
  REJECTION_TYPES,
} from './semconv.ts';

export interface MetricDefinition {
  /** OpenTelemetry name, e.g. 'websocket.server.connection.duration'. */
  name: string;
  /** `gauge` is an observable gauge. */
  instrument: 'counter' | 'updowncounter' | 'histogram' | 'gauge';
  /** UCUM: 's', 'By', '{connection}', '{message}', '1'. */
  unit: string;
  description: string;
  /** The only attribute keys the metric may carry (each with bounded values). */
  attributes: readonly string[];
  /** Explicit bucket advice, in the metric's unit (seconds for durations). */
  buckets?: readonly number[];
}

/** Connection lifetimes: sub-second churn up to day-long sessions. */
const CONNECTION_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400] as const;
/** Handler time: 50 µs to 2.5 s. */
const PROCESS_DURATION_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;
/** Network-scale latencies; the monitoring guide's 50 / 100 / 500 ms thresholds are bucket edges. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10] as const;
export const HANDSHAKE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;
const COUNT_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 250, 500, 1000] as const;
const RECIPIENT_BUCKETS = [0, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export const SERVER_METRICS = [
  {
    name: 'websocket.server.connection.count',
    instrument: 'updowncounter',
    unit: '{connection}',
    description: 'Open WebSocket connections.',
    attributes: [],
  },
  {
    name: 'websocket.server.connection.opened',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Connections that completed the handshake.',
    attributes: [],
  },
  {
    name: 'websocket.server.connection.closed',
    instrument: 'counter',
    unit: '{connection}',
    description: `Connections that closed, by close code class (${CLOSE_CODE_CLASSES.join(', ')}); error.type (${CLOSE_ERROR_TYPES.join(', ')}) only when the close was a failure.`,
    attributes: [ATTR_CLOSE_CODE_CLASS, ATTR_ERROR_TYPE],
  },
  {
    name: 'websocket.server.connection.rejected',
    instrument: 'counter',
    unit: '{connection}',
    description: `Upgrade requests that never became a connection, by error.type (${REJECTION_TYPES.join(', ')}).`,
    attributes: [ATTR_ERROR_TYPE],
  },
  {
    name: 'websocket.server.connection.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'How long connections stayed open, recorded when they close.',
    attributes: [ATTR_CLOSE_CODE_CLASS],
    buckets: CONNECTION_DURATION_BUCKETS,
  },
  {
    name: 'websocket.server.connection.subscriptions',
    instrument: 'histogram',
    unit: '{subscription}',
    description: 'Most subscriptions a connection held at once, recorded when it closes.',
    attributes: [],
    buckets: COUNT_BUCKETS,
  },
  {
    name: 'websocket.server.connection.memory',
    instrument: 'gauge',
    unit: 'By',
    description: 'Estimated memory per open connection: the configured base cost of a ws connection plus the mean bytes buffered in its send and receive queues.',
    attributes: [],
  },
  {
    name: 'websocket.server.handshake.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time from the upgrade request to an open connection or a rejection, authentication included; error.type as on connection.rejected.',
    attributes: [ATTR_ERROR_TYPE],
    buckets: HANDSHAKE_BUCKETS,
  },
  {
    name: 'websocket.server.auth.attempts',
    instrument: 'counter',
    unit: '{attempt}',
    description: 'Upgrade requests handed to the authenticate hook, whatever became of them (decided, hook failed or timed out, client gone first).',
    attributes: [],
  },
  {
    name: 'websocket.server.auth.failures',
    instrument: 'counter',
    unit: '{attempt}',
    description: `Authentication failures by reason (${AUTH_FAILURE_REASONS.join(', ')}).`,
    attributes: [ATTR_AUTH_FAILURE_REASON],
  },
  {
    name: 'websocket.server.received.messages',
    instrument: 'counter',
    unit: '{message}',
    description: `Messages received, by frame type (${FRAME_TYPES.join(', ')}) and message type (the application's classifier, allow-listed, else _OTHER).`,
    attributes: [ATTR_FRAME_TYPE, ATTR_MESSAGE_TYPE],
  },
  {
    name: 'websocket.server.sent.messages',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages sent, by frame type and message type (from broadcast/send helpers, else _OTHER).',
    attributes: [ATTR_FRAME_TYPE, ATTR_MESSAGE_TYPE],
  },
  {
    name: 'websocket.server.io',
    instrument: 'counter',
    unit: 'By',
    description: `Bytes on the wire (frames, headers and the handshake), by network.io.direction (${IO_DIRECTIONS.join(', ')}).`,
    attributes: [ATTR_NETWORK_IO_DIRECTION],
  },
  {
    name: 'websocket.server.process.duration',
    instrument: 'histogram',
    unit: 's',
    description: "Time the application's message listeners took for one received message.",
    attributes: [ATTR_MESSAGE_TYPE],
    buckets: PROCESS_DURATION_BUCKETS,
  },
  {
    name: 'websocket.server.message.latency',
    instrument: 'histogram',
    unit: 's',
    description: 'End-to-end latency from the send timestamp the client put in the message envelope to its arrival; negative values (clock skew) are clamped to 0, values above the configured maximum are dropped.',
    attributes: [ATTR_MESSAGE_TYPE],
    buckets: LATENCY_BUCKETS,
  },
  {
    name: 'websocket.server.message.latency_anomalies',
    instrument: 'counter',
    unit: '{message}',
    description: `Latency samples clamped or dropped, by error.type (${LATENCY_ANOMALIES.join(', ')}).`,
    attributes: [ATTR_ERROR_TYPE],
  },
  {
    name: 'websocket.server.message.errors',
    instrument: 'counter',
    unit: '{error}',
    description: `Message errors by error.type (${MESSAGE_ERROR_TYPES.join(', ')}).`,
    attributes: [ATTR_ERROR_TYPE],
  },
  {
    name: 'websocket.server.message.trace_context.refused',
    instrument: 'counter',
    unit: '{message}',
    description: "Received messages whose envelope traceparent was sampled but which were not traced as part of the client's trace, because the server's budget of client-sampled message spans (tracing.maxClientSampledMessageSpansPerSecond) was spent; messageSampleRatio then decides on a root span linked to the client's span.",
    attributes: [],
  },
  {
    name: 'websocket.server.ping.sent',
    instrument: 'counter',
    unit: '{ping}',
    description: 'Heartbeat pings sent.',
    attributes: [],
  },
  {
    name: 'websocket.server.ping.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Heartbeat round-trip time, ping sent to pong received.',
    attributes: [],
    buckets: LATENCY_BUCKETS,
  },
  {
    name: 'websocket.server.ping.timeouts',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Connections terminated because they did not answer a heartbeat ping within one interval.',
    attributes: [],
  },
  {
    name: 'websocket.server.subscription.count',
    instrument: 'updowncounter',
    unit: '{subscription}',
    description: 'Active subscriptions (room memberships) per channel: allow-listed or top-N channels by name, the rest as _OTHER. Per channel this is the members per room.',
    attributes: [ATTR_CHANNEL],
  },
  {
    name: 'websocket.server.room.count',
    instrument: 'updowncounter',
    unit: '{room}',
    description: 'Rooms (channels) with at least one member.',
    attributes: [],
  },
  {
    name: 'websocket.server.broadcast.duration',
    instrument: 'histogram',
    unit: 's',
    description: 'Time to hand one broadcast to every member of a room (fan-out).',
    attributes: [ATTR_CHANNEL],
    buckets: PROCESS_DURATION_BUCKETS,
  },
  {
    name: 'websocket.server.broadcast.recipients',
    instrument: 'histogram',
    unit: '{connection}',
    description: 'Open connections one broadcast was sent to.',
    attributes: [ATTR_CHANNEL],
    buckets: RECIPIENT_BUCKETS,
  },
  {
    name: 'nodejs.eventloop.delay.p50',
    instrument: 'gauge',
    unit: 's',
    description:
      "Median event-loop delay over the window the latest collection closed (at least 5 s; libuv's 20 ms sampling interval subtracted, so an idle loop reads 0; semconv Node.js runtime metric).",
    attributes: [],
  },
  {
    name: 'nodejs.eventloop.delay.p99',
    instrument: 'gauge',
    unit: 's',
    description: '99th percentile event-loop delay over the window the latest collection closed.',
    attributes: [],
  },
  {
    name: 'nodejs.eventloop.delay.max',
    instrument: 'gauge',
    unit: 's',
    description: 'Largest event-loop delay over the window the latest collection closed.',
    attributes: [],
  },
] as const satisfies readonly MetricDefinition[];

export type ServerMetricName = (typeof SERVER_METRICS)[number]['name'];

const BY_NAME = new Map<string, MetricDefinition>(SERVER_METRICS.map((def) => [def.name, def]));

/** What an instrument of this definition is created with: unit, description and, for histograms, the bucket advice. */
export function instrumentOptions(def: MetricDefinition): MetricOptions {
  return { unit: def.unit, description: def.description, ...(def.buckets ? { advice: { explicitBucketBoundaries: [...def.buckets] } } : {}) };
}

/** The definition of a server metric; throws on a name that is not in the catalogue. */
export function serverMetric(name: ServerMetricName): MetricDefinition {
  const def = BY_NAME.get(name);
  if (!def) throw new Error(`no server metric named ${name}`);
  return def;
}
