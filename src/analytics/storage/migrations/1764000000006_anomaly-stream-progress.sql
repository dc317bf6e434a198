-- Up Migration
-- How far each stream's points have been judged by the scheduled detector.
-- Every run re-reads a sliding look-back window, and a window that starts
-- later warms up differently: points already judged calm could be flagged by
-- a later run as incidents of their own (a second alert for one incident).
-- Only points after judged_until are stored as incidents; it advances in the
-- transaction that stores the run's incidents.
CREATE TABLE anomaly_stream_progress (
  stream       text        PRIMARY KEY,
  judged_until timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE anomaly_stream_progress;
