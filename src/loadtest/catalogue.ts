/**
 * The metrics `socketscope load --otlp` exports about its own run, so a load
 * test shows up in Prometheus beside the server's metrics it drives. One
 * series per metric and target: the resource says which run (service.name
 * `socketscope-load`, service.instance.id), the attributes which server.
 */
import { HANDSHAKE_BUCKETS, LATENCY_BUCKETS, type MetricDefinition } from '../instrumentation/catalogue.ts';

const TARGET = ['server.address', 'server.port'] as const;

export const LOAD_METRICS = [
  {
    name: 'socketscope.load.connection.count',
    instrument: 'gauge',
    unit: '{connection}',
    description: 'Connections the load generator holds open now.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.connection.target',
    instrument: 'gauge',
    unit: '{connection}',
    description: 'Connections the load plan opens at its peak.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.connection.failed',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Connections that failed to open (refused, timed out, or an error during the handshake).',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.connection.dropped',
    instrument: 'counter',
    unit: '{connection}',
    description: 'Connections that opened and then closed before the end of the run.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.sent',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages the load generator sent in its measured window (warm-up excluded), as in its report.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.received',
    instrument: 'counter',
    unit: '{message}',
    description: 'Messages the load generator received in its measured window (warm-up excluded), as in its report.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.errors',
    instrument: 'counter',
    unit: '{error}',
    description: 'Connection and message errors the load generator saw, all classes.',
    attributes: TARGET,
  },
  {
    name: 'socketscope.load.latency',
    instrument: 'histogram',
    unit: 's',
    description:
      "Echo latency of the measured messages, from each message's intended send time (so a stalled server cannot hide latency); a message never echoed (lost, or skipped for backpressure) counts with the time until the tool gave up on it, a lower bound. The same population as the report's percentiles.",
    attributes: TARGET,
    buckets: LATENCY_BUCKETS,
  },
  {
    name: 'socketscope.load.handshake.duration',
    instrument: 'histogram',
    unit: 's',
    description: "Time to open each connection the load generator opened (TCP connect and WebSocket handshake); the same population as the report's connect_ms.",
    attributes: TARGET,
    buckets: HANDSHAKE_BUCKETS,
  },
] as const satisfies readonly MetricDefinition[];

export type LoadMetricName = (typeof LOAD_METRICS)[number]['name'];

export function loadMetric(name: LoadMetricName): MetricDefinition {
  return LOAD_METRICS.find((m) => m.name === name)!;
}
