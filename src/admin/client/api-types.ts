/** Response shapes of the JSON API and the admin endpoints, from their schemas (types only; nothing server-side is bundled). */
import type { z } from 'zod';
import type {
  acknowledgeResponseSchema,
  alertSchema,
  anomaliesSchema,
  anomalySchema,
  geographySchema,
  historicalMetricsSchema,
  serverMetricsSchema,
  summarySchema,
  uxCorrelationSchema,
} from '../../api/schemas/responses.ts';
import type { alertsResponseSchema } from '../../api/routes/alerts.ts';

export type Summary = z.infer<typeof summarySchema>;
export type Geography = z.infer<typeof geographySchema>;
export type GeoCountry = Geography['countries'][number];
export type UxCorrelation = z.infer<typeof uxCorrelationSchema>;
export type UxPair = UxCorrelation['pairs'][number];
export type Anomalies = z.infer<typeof anomaliesSchema>;
export type Anomaly = z.infer<typeof anomalySchema>;
export type ServerMetrics = z.infer<typeof serverMetricsSchema>;
export type HistoricalMetrics = z.infer<typeof historicalMetricsSchema>;
export type Alerts = z.infer<typeof alertsResponseSchema>;
export type Alert = z.infer<typeof alertSchema>;
export type AcknowledgeResult = z.infer<typeof acknowledgeResponseSchema>;

export type { AnomalyContext } from '../anomaly-context.ts';
export type { UxPoints } from '../ux-points.ts';
export type { ConnectionTestBody } from '../connection-test-route.ts';
export type { BasicTestResult, EchoTestResult, PoolTestResult, ConnectionTestResult } from '../../loadtest/index.ts';

/** GET /admin/api/performance: the shape of the historical metrics, plus the seconds each point's quantiles cover. */
export type PerformanceSeries = HistoricalMetrics & { window_s: number };
