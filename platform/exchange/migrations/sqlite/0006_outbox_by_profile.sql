-- The 12345 hotline's destinations (profile cityops-12345/1) get only what they send: the
-- events that can be outcomes of a hotline work order (accept, verify, void, close of a case from
-- the hotline: hotline_profile.go reads the same), no other case's events and no grid or
-- component. Before, every destination got a row for every change and the hotline's delivery
-- marked all but those done unsent: a large import filled its outbox with rows it skipped.
-- Rows already queued stay and are skipped as before.
DROP TRIGGER case_events_exchange;
DROP TRIGGER grids_exchange_insert;
DROP TRIGGER grids_exchange_update;
DROP TRIGGER grids_exchange_delete;
DROP TRIGGER components_exchange_insert;
DROP TRIGGER components_exchange_update;
DROP TRIGGER components_exchange_delete;
CREATE TRIGGER case_events_exchange AFTER INSERT ON case_events
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'case_event', 'case:' || NEW.case_id, NEW.version, NEW.id,
           CAST(unixepoch(NEW.at, 'subsec') * 1000 AS INTEGER), NEW.at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1'
       OR (NEW.action IN ('accept', 'verify', 'void', 'close')
           AND EXISTS (SELECT 1 FROM cases c WHERE c.id = NEW.case_id AND c.source = 'hotline'));
END;
CREATE TRIGGER grids_exchange_insert AFTER INSERT ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER grids_exchange_update AFTER UPDATE ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER grids_exchange_delete AFTER DELETE ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || OLD.code, 0, OLD.code, 0, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || OLD.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_insert AFTER INSERT ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_update AFTER UPDATE ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_delete AFTER DELETE ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || OLD.code, 0, OLD.code, 0, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || OLD.code AND o.attempts = 0 AND o.status = 'pending');
END;
