-- Up Migration
-- How a stored alert instance came to be resolved. Alertmanager sends no
-- resolved notification for an alert that resolves while silenced or inhibited
-- (prometheus/alertmanager#226), and acknowledging an alert silences it, so a
-- row could stay 'firing' for ever. GET /api/ws/alerts now reconciles: firing
-- rows whose alert Alertmanager no longer has are resolved there
-- ('reconciliation', ends_at = when that was found). 'webhook': Alertmanager
-- said so. Only a 'webhook' resolution is final: a late or retried firing
-- delivery of the same instance (fingerprint + start) does not undo it.
ALTER TABLE alerts ADD COLUMN resolved_by text CHECK (resolved_by IN ('webhook', 'reconciliation'));
UPDATE alerts SET resolved_by = 'webhook' WHERE status = 'resolved';
ALTER TABLE alerts ADD CONSTRAINT alerts_resolved_by_status CHECK ((status = 'resolved') = (resolved_by IS NOT NULL));

-- The Watchdog's last delivery whatever its status (GET /api/ws/health).
CREATE INDEX alerts_alertname_updated ON alerts (alertname, updated_at);

-- Down Migration
DROP INDEX alerts_alertname_updated;
ALTER TABLE alerts DROP CONSTRAINT alerts_resolved_by_status;
ALTER TABLE alerts DROP COLUMN resolved_by;
