-- Up Migration
-- Hourly sums per browser session for UX correlation (src/analytics/correlation.ts),
-- rolled up with the other hourly rollups: a read over weeks aggregates one row per
-- session and hour instead of every report (about 60 per session-hour at the web
-- SDK's one report a minute), and picks the most recent sessions by last_at.
-- Every column is additive (last_at: the maximum), so the per-session means
-- and ratios are exact. Sums of counts stay exact integers in double precision.
CREATE TABLE client_report_session_rollups (
  hour            timestamptz      NOT NULL,
  session_id      text             NOT NULL,
  last_at         timestamptz      NOT NULL,
  reports         integer          NOT NULL,
  -- Σ latency_avg_ms·latency_count and Σ latency_count over reports with a mean RTT.
  latency_sum     double precision NOT NULL,
  latency_count   double precision NOT NULL,
  page_load_sum   double precision NOT NULL,
  page_load_count integer          NOT NULL,
  lcp_sum         double precision NOT NULL,
  lcp_count       integer          NOT NULL,
  inp_sum         double precision NOT NULL,
  inp_count       integer          NOT NULL,
  message_errors  double precision NOT NULL,
  -- Σ (messages_sent + messages_received)
  messages        double precision NOT NULL,
  ux_errors       double precision NOT NULL,
  drops           double precision NOT NULL,
  ux_interactions double precision NOT NULL,
  PRIMARY KEY (hour, session_id)
);

-- Hours rolled up before this migration, from the raw rows still kept (one
-- pass over them, as the rollup of those hours did).
INSERT INTO client_report_session_rollups
SELECT date_bin('1 hour', received_at, timestamptz '2000-01-01 00:00:00+00'), session_id, max(received_at), count(*),
       coalesce(sum(latency_avg_ms * latency_count), 0), coalesce(sum(latency_count) FILTER (WHERE latency_avg_ms IS NOT NULL), 0),
       coalesce(sum(page_load_ms), 0), count(page_load_ms), coalesce(sum(lcp_ms), 0), count(lcp_ms), coalesce(sum(inp_ms), 0), count(inp_ms),
       coalesce(sum(message_errors), 0), coalesce(sum(messages_sent::bigint + messages_received), 0),
       coalesce(sum(ux_errors), 0), coalesce(sum(drops), 0), coalesce(sum(ux_interactions), 0)
  FROM client_reports
 WHERE received_at >= (SELECT min(hour) FROM client_report_rollups)
   AND received_at < (SELECT rolled_until FROM client_report_rollup_state WHERE id = 1)
 GROUP BY 1, 2;

-- Down Migration
DROP TABLE client_report_session_rollups;
