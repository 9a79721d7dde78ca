-- Inspectors' tasks notify too: a case sent to 核实 (send_verify) or 核查 (send_check) becomes a
-- verify_task or check_task event in the transaction that records the action, as dispatch and
-- rework do (0001).
DROP TRIGGER case_events_notify;
CREATE TRIGGER case_events_notify AFTER INSERT ON case_events
WHEN NEW.action IN ('dispatch', 'rework', 'send_verify', 'send_check')
BEGIN
    INSERT OR IGNORE INTO notify_events (key, kind, case_id, ref, created_at)
    VALUES ('case_event:' || NEW.id,
            CASE NEW.action WHEN 'dispatch' THEN 'dispatched' WHEN 'rework' THEN 'rework'
                            WHEN 'send_verify' THEN 'verify_task' ELSE 'check_task' END,
            NEW.case_id, NEW.id, CAST(round((julianday(NEW.at) - 2440587.5) * 86400000) AS INTEGER));
END;

-- The console's navigation counts the caller's unread notifications on every page.
CREATE INDEX notify_inbox_unread ON notify_inbox (identity_id) WHERE read_at IS NULL;
