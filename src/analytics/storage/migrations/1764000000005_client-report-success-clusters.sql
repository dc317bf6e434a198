-- Up Migration
-- Per-report sums behind the clustered interval of the connection success rate
-- (src/analytics/statistics.ts, clusteredWilsonInterval): each client report
-- is a cluster of a attempts and s opens, and Σa², Σs², Σa·s and the number of
-- reports with an attempt or an open are additive (src/analytics/rollups.ts,
-- CLUSTER_SUMS_SQL). Squares in double precision: a few reports at the int4
-- maximum would overflow a bigint.
ALTER TABLE client_report_rollups
  ADD COLUMN attempts_sq        double precision NOT NULL DEFAULT 0,
  ADD COLUMN opens_sq           double precision NOT NULL DEFAULT 0,
  ADD COLUMN attempts_opens     double precision NOT NULL DEFAULT 0,
  ADD COLUMN connection_reports bigint           NOT NULL DEFAULT 0;
ALTER TABLE client_report_daily_rollups
  ADD COLUMN attempts_sq        double precision NOT NULL DEFAULT 0,
  ADD COLUMN opens_sq           double precision NOT NULL DEFAULT 0,
  ADD COLUMN attempts_opens     double precision NOT NULL DEFAULT 0,
  ADD COLUMN connection_reports bigint           NOT NULL DEFAULT 0;

-- Hours rolled up before this migration, from the raw rows that are still
-- there: only where those are the rows the hour was rolled up from (same
-- reports, attempts and opens), so a group whose raw rows are gone (retention)
-- or differ keeps 0, which the interval reads as plain Wilson.
UPDATE client_report_rollups r
   SET attempts_sq = raw.attempts_sq, opens_sq = raw.opens_sq, attempts_opens = raw.attempts_opens, connection_reports = raw.connection_reports
  FROM (SELECT date_bin('1 hour', received_at, timestamptz '2000-01-01 00:00:00+00') AS hour, country, coalesce(region, '') AS region,
               count(*) AS reports, sum(attempts) AS attempts, sum(opens) AS opens,
               sum(attempts::float8 * attempts) AS attempts_sq, sum(opens::float8 * opens) AS opens_sq,
               sum(attempts::float8 * opens) AS attempts_opens, count(*) FILTER (WHERE attempts > 0 OR opens > 0) AS connection_reports
          FROM client_reports
         WHERE received_at >= (SELECT min(hour) FROM client_report_rollups)
           AND received_at < (SELECT rolled_until FROM client_report_rollup_state WHERE id = 1)
         GROUP BY 1, 2, 3) AS raw
 WHERE r.hour = raw.hour AND r.country = raw.country AND r.region = raw.region
   AND r.reports = raw.reports AND r.attempts = raw.attempts AND r.opens = raw.opens;

-- Days from their hours, where all the day's rolled-up reports are still in
-- hourly rows; a day with some hours not backfilled gets the sums of the
-- others: an underestimate, which the interval's clamp makes safe.
UPDATE client_report_daily_rollups d
   SET attempts_sq = h.attempts_sq, opens_sq = h.opens_sq, attempts_opens = h.attempts_opens, connection_reports = h.connection_reports
  FROM (SELECT date_bin('1 day', hour, timestamptz '2000-01-01 00:00:00+00') AS day, country, region, sum(reports) AS reports,
               sum(attempts_sq) AS attempts_sq, sum(opens_sq) AS opens_sq, sum(attempts_opens) AS attempts_opens, sum(connection_reports) AS connection_reports
          FROM client_report_rollups
         GROUP BY 1, 2, 3) AS h
 WHERE d.day = h.day AND d.country = h.country AND d.region = h.region AND d.reports = h.reports;

-- Down Migration
ALTER TABLE client_report_daily_rollups
  DROP COLUMN attempts_sq,
  DROP COLUMN opens_sq,
  DROP COLUMN attempts_opens,
  DROP COLUMN connection_reports;
ALTER TABLE client_report_rollups
  DROP COLUMN attempts_sq,
  DROP COLUMN opens_sq,
  DROP COLUMN attempts_opens,
  DROP COLUMN connection_reports;
