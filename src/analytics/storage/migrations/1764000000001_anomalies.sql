-- Up Migration
-- Anomalies found by the scheduled detector: one row per incident start of a
-- stream (the detector de-duplicates), with the expected value and band.
CREATE TABLE anomalies (
  id              bigserial        PRIMARY KEY,
  stream          text             NOT NULL,
  source          text             NOT NULL CHECK (source IN ('prometheus', 'client_reports')),
  observed_at     timestamptz      NOT NULL,
  value           double precision NOT NULL,
  expected        double precision NOT NULL,
  lower_bound     double precision NOT NULL,
  upper_bound     double precision NOT NULL,
  score           double precision NOT NULL CHECK (score >= 0 AND score <= 1),
  deviation       double precision NOT NULL,
  severity        text             NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
  detected_at     timestamptz      NOT NULL DEFAULT now(),
  alert_posted_at timestamptz,
  UNIQUE (stream, observed_at)
);
CREATE INDEX anomalies_observed_at ON anomalies (observed_at);

-- Down Migration
DROP TABLE anomalies;
