-- Up Migration
-- Anomaly alerts are re-sent while they are active: Alertmanager keeps alerts
-- in memory only and expects clients to re-send the active ones
-- (prometheus.io/docs/alerting/latest/clients), so one that restarted would
-- otherwise drop the page. alert_ends_at is the endsAt the alert was posted
-- with; every run re-posts the stream's alerts whose end is still ahead, with
-- the same labels, startsAt and endsAt (Alertmanager de-duplicates them).
ALTER TABLE anomalies ADD COLUMN alert_ends_at timestamptz;
-- Whether the incident is to be paged: false for the history a stream's first
-- run finds (its whole look-back window), which is stored but not posted.
ALTER TABLE anomalies ADD COLUMN alert_wanted boolean NOT NULL DEFAULT true;

-- Alerts posted before this migration lived 30 minutes; unposted incidents
-- were posted only within 30 minutes of their time (the rule they were stored under).
UPDATE anomalies SET alert_ends_at = alert_posted_at + interval '30 minutes' WHERE alert_posted_at IS NOT NULL;
UPDATE anomalies SET alert_wanted = false WHERE alert_posted_at IS NULL AND observed_at < now() - interval '30 minutes';

-- What each run reads per stream: incidents whose post is due, and active alerts.
CREATE INDEX anomalies_alert_due ON anomalies (stream, detected_at) WHERE alert_wanted AND alert_posted_at IS NULL;
CREATE INDEX anomalies_alert_active ON anomalies (stream, alert_ends_at) WHERE alert_ends_at IS NOT NULL;

-- Down Migration
DROP INDEX anomalies_alert_active;
DROP INDEX anomalies_alert_due;
ALTER TABLE anomalies DROP COLUMN alert_wanted;
ALTER TABLE anomalies DROP COLUMN alert_ends_at;
