-- Up Migration
-- Alerts as Alertmanager reported them to the webhook: one row per alert
-- instance (fingerprint + start), updated when it resolves.
CREATE TABLE alerts (
  id            bigserial   PRIMARY KEY,
  fingerprint   text        NOT NULL,
  alertname     text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity      text,
  labels        jsonb       NOT NULL,
  annotations   jsonb       NOT NULL,
  starts_at     timestamptz NOT NULL,
  ends_at       timestamptz,
  generator_url text,
  received_at   timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (fingerprint, starts_at)
);
CREATE INDEX alerts_status_updated ON alerts (status, updated_at);

-- Who acknowledged which alert and when; the Alertmanager silence it created.
CREATE TABLE alert_acknowledgements (
  id              bigserial   PRIMARY KEY,
  fingerprint     text        NOT NULL,
  alertname       text        NOT NULL,
  acknowledged_by text        NOT NULL,
  comment         text,
  acknowledged_at timestamptz NOT NULL DEFAULT now(),
  silence_id      text        NOT NULL,
  silence_ends_at timestamptz NOT NULL
);
CREATE INDEX alert_acknowledgements_fingerprint ON alert_acknowledgements (fingerprint, acknowledged_at DESC);

-- Down Migration
DROP TABLE alert_acknowledgements;
DROP TABLE alerts;
