/** What the routers need from the service: storage, clients, configuration. Built once by the service. */
import type { Logger } from 'pino';
import type { AlertmanagerClient } from '../analytics/alertmanager.ts';
import type { GeoResolver } from '../analytics/geo.ts';
import type { PrometheusClient } from '../analytics/prometheus.ts';
import type { Scheduler } from '../analytics/scheduler.ts';
import type { Database } from '../analytics/storage/database.ts';
import type { ReportWriter } from '../analytics/storage/report-writer.ts';
import type { Config } from '../config.ts';
import type { ApiInstruments } from './service-metrics.ts';

export interface ApiContext {
  config: Config;
  logger: Logger;
  database: Database;
  /** Group-committing writer of client reports. */
  reports: ReportWriter;
  geo: GeoResolver;
  prometheus?: PrometheusClient;
  alertmanager?: AlertmanagerClient;
  scheduler?: Scheduler;
  adminToken: string;
  startedAt: Date;
  version: string;
  instruments: ApiInstruments;
}
