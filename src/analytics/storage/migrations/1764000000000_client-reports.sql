-- Up Migration
-- One row per client report (web SDK → POST /api/ws/client-metrics), partitioned
-- by the server's receive day (UTC) so retention drops whole partitions. The
-- service creates partitions ahead of time (src/analytics/storage/partitions.ts).
-- No raw IP is stored: only the derived country and region.
CREATE TABLE client_reports (
  received_at          timestamptz      NOT NULL,
  schema_version       smallint         NOT NULL,
  session_id           text             NOT NULL,
  sent_at              timestamptz      NOT NULL,
  window_start         timestamptz      NOT NULL,
  window_end           timestamptz      NOT NULL,
  page_path            text             NOT NULL,
  app_name             text,
  app_version          text,
  country              text             NOT NULL,
  region               text,
  attempts             integer          NOT NULL,
  opens                integer          NOT NULL,
  drops                integer          NOT NULL,
  reconnect_attempts   integer          NOT NULL,
  reconnect_successes  integer          NOT NULL,
  outage_ms            double precision NOT NULL,
  connected_ms         double precision NOT NULL,
  close_codes          jsonb            NOT NULL,
  messages_sent        integer          NOT NULL,
  messages_received    integer          NOT NULL,
  messages_queued      integer          NOT NULL,
  messages_dropped     integer          NOT NULL,
  message_errors       integer          NOT NULL,
  latency_count        integer          NOT NULL,
  latency_avg_ms       double precision,
  latency_p50_ms       double precision,
  latency_p95_ms       double precision,
  latency_max_ms       double precision,
  network_type         text,
  effective_type       text,
  network_rtt_ms       double precision,
  downlink_mbps        double precision,
  lcp_ms               double precision,
  inp_ms               double precision,
  cls                  double precision,
  fcp_ms               double precision,
  ttfb_ms              double precision,
  page_load_ms         double precision,
  ux_interactions      integer          NOT NULL,
  ux_errors            integer          NOT NULL
) PARTITION BY RANGE (received_at);

-- BRIN suits an append-only time column: tiny and cheap to maintain.
CREATE INDEX client_reports_received_at_brin ON client_reports USING brin (received_at);
-- Geography and time filters.
CREATE INDEX client_reports_country_region_time ON client_reports (country, region, received_at);
-- Per-session pairing for UX correlation.
CREATE INDEX client_reports_session_time ON client_reports (session_id, received_at);

-- Down Migration
DROP TABLE client_reports;
