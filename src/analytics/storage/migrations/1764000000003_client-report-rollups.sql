-- Up Migration
-- Hourly rollups of client_reports per country and region, so reads over
-- days do not scan millions of rows: additive sums, and fixed-bucket
-- histograms (src/analytics/rollups.ts) for the percentiles. Region '' = unknown.
CREATE TABLE client_report_rollups (
  hour                timestamptz      NOT NULL,
  country             text             NOT NULL,
  region              text             NOT NULL,
  reports             bigint           NOT NULL,
  attempts            bigint           NOT NULL,
  opens               bigint           NOT NULL,
  drops               bigint           NOT NULL,
  reconnect_attempts  bigint           NOT NULL,
  reconnect_successes bigint           NOT NULL,
  outage_ms           double precision NOT NULL,
  connected_ms        double precision NOT NULL,
  messages_sent       bigint           NOT NULL,
  messages_received   bigint           NOT NULL,
  messages_queued     bigint           NOT NULL,
  messages_dropped    bigint           NOT NULL,
  message_errors      bigint           NOT NULL,
  latency_count       bigint           NOT NULL,
  latency_sum         double precision NOT NULL,
  latency_max         double precision,
  ux_interactions     bigint           NOT NULL,
  ux_errors           bigint           NOT NULL,
  PRIMARY KEY (hour, country, region)
);

-- Counts per histogram bin (log-spaced, see src/analytics/rollups.ts) of each
-- percentile metric, per hour, country and region.
CREATE TABLE client_report_histograms (
  hour    timestamptz NOT NULL,
  country text        NOT NULL,
  region  text        NOT NULL,
  metric  smallint    NOT NULL,
  bin     smallint    NOT NULL,
  count   bigint      NOT NULL,
  PRIMARY KEY (hour, country, region, metric, bin)
);

-- Distinct clients are not additive across hours: keep which sessions each hour saw.
CREATE TABLE client_report_session_hours (
  hour       timestamptz NOT NULL,
  country    text        NOT NULL,
  region     text        NOT NULL,
  session_id text        NOT NULL,
  PRIMARY KEY (hour, country, region, session_id)
);

-- Hours before rolled_until are in the rollups; later rows are read raw.
CREATE TABLE client_report_rollup_state (
  id           integer     PRIMARY KEY CHECK (id = 1),
  rolled_until timestamptz NOT NULL
);

-- Down Migration
DROP TABLE client_report_rollup_state;
DROP TABLE client_report_session_hours;
DROP TABLE client_report_histograms;
DROP TABLE client_report_rollups;
