-- The 12345 hotline's destinations (profile cityops-12345/1) get only what they send: the
-- events that can be outcomes of a hotline work order (accept, verify, void, close of a case from
-- the hotline: hotline_profile.go reads the same), no other case's events and no grid or
-- component. Before, every destination got a row for every change and the hotline's delivery
-- marked all but those done unsent: a large import filled its outbox with rows it skipped.
-- Rows already queued stay and are skipped as before.
CREATE OR REPLACE FUNCTION exchange_case_events() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'case_event', 'case:' || n.case_id, n.version, n.id,
           (extract(epoch FROM n.at) * 1000)::bigint, n.at
    FROM exchange_new_events n CROSS JOIN exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1';
    -- Only with a hotline destination: each event's case looked up by its key (fenced, so that
    -- the planner cannot make it a scan of every case). One query with an OR across both made
    -- the vendor import's COPY of events twice as slow with no destination at all.
    IF EXISTS (SELECT 1 FROM exchange_destinations WHERE profile = 'cityops-12345/1') THEN
        INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
        SELECT d.id, 'case_event', 'case:' || n.case_id, n.version, n.id,
               (extract(epoch FROM n.at) * 1000)::bigint, n.at
        FROM exchange_new_events n
        CROSS JOIN LATERAL (SELECT c.source FROM cases c WHERE c.id = n.case_id OFFSET 0) c
        CROSS JOIN exchange_destinations d
        WHERE d.profile = 'cityops-12345/1' AND n.action IN ('accept', 'verify', 'void', 'close') AND c.source = 'hotline';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION exchange_snapshot() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    v_code text;
    v_at   timestamptz;
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_code := OLD.code;
        v_at := now();
    ELSE
        v_code := NEW.code;
        v_at := NEW.updated_at;
    END IF;
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, TG_ARGV[0], TG_ARGV[0] || ':' || v_code, 0, v_code, 0, v_at
    FROM exchange_destinations d
    WHERE d.profile <> 'cityops-12345/1' AND NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = TG_ARGV[0] || ':' || v_code AND o.attempts = 0 AND o.status = 'pending');
    RETURN NULL;
END $$;
