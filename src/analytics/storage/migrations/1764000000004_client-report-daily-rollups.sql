-- Up Migration
-- Daily rollups of client reports per country and region, made from the
-- hourly rollups once all hours of a UTC day are rolled up, so that reads over
-- weeks touch tens of rows per group instead of hundreds (src/analytics/rollups.ts).
-- Same columns and keys as the hourly tables, with the start of the day for the hour.
CREATE TABLE client_report_daily_rollups (LIKE client_report_rollups INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE client_report_daily_rollups RENAME COLUMN hour TO day;
CREATE TABLE client_report_daily_histograms (LIKE client_report_histograms INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE client_report_daily_histograms RENAME COLUMN hour TO day;

-- Distinct clients over a range are counted exactly without DISTINCT: every
-- session row carries the session's previous active hour in its group
-- (prev_hour), so a session is counted once, at its first row inside the
-- range (prev_hour before the range start). Rows under region '*' track a
-- country's sessions across its regions, rows under country and region '*'
-- sessions across all groups, for the totals.
ALTER TABLE client_report_session_hours ADD COLUMN prev_hour timestamptz;
INSERT INTO client_report_session_hours (hour, country, region, session_id)
  SELECT DISTINCT hour, country, '*', session_id FROM client_report_session_hours;
INSERT INTO client_report_session_hours (hour, country, region, session_id)
  SELECT DISTINCT hour, '*', '*', session_id FROM client_report_session_hours WHERE region <> '*';
UPDATE client_report_session_hours s SET prev_hour = p.prev
  FROM (SELECT hour, country, region, session_id, lag(hour) OVER (PARTITION BY country, region, session_id ORDER BY hour) AS prev
          FROM client_report_session_hours) p
 WHERE p.prev IS NOT NULL AND s.hour = p.hour AND s.country = p.country AND s.region = p.region AND s.session_id = p.session_id;
-- A session's latest hour before a given one (rollup) and its hours in a range (raw edges).
CREATE INDEX client_report_session_hours_session ON client_report_session_hours (session_id, country, region, hour);

-- The all-groups histograms (country '*', the summary's) without reading every group's rows.
CREATE INDEX client_report_histograms_global ON client_report_histograms (hour) INCLUDE (metric, bin, count) WHERE country = '*';
CREATE INDEX client_report_daily_histograms_global ON client_report_daily_histograms (day) INCLUDE (metric, bin, count) WHERE country = '*';

-- How many sessions each day saw per group, by the session's last active hour
-- before the day ('-infinity': none): a read over whole days sums the counts
-- whose previous hour lies before its range, a few rows per group and day
-- however many sessions there were.
CREATE TABLE client_report_session_day_counts (
  day       timestamptz NOT NULL,
  country   text        NOT NULL,
  region    text        NOT NULL,
  prev_hour timestamptz NOT NULL,
  sessions  bigint      NOT NULL,
  PRIMARY KEY (day, country, region, prev_hour)
);

-- Days before days_rolled_until are in the daily tables (NULL: none yet).
ALTER TABLE client_report_rollup_state ADD COLUMN days_rolled_until timestamptz;

-- Down Migration
ALTER TABLE client_report_rollup_state DROP COLUMN days_rolled_until;
DROP TABLE client_report_session_day_counts;
DROP INDEX client_report_histograms_global;
DROP INDEX client_report_session_hours_session;
DELETE FROM client_report_session_hours WHERE region = '*';
ALTER TABLE client_report_session_hours DROP COLUMN prev_hour;
DROP TABLE client_report_daily_histograms;
DROP TABLE client_report_daily_rollups;
