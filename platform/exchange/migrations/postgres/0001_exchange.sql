-- Data exchange (platform/exchange): the tenant's destinations (the provincial platform, and the
-- nation through it), the outbox of changes waiting for each, and the delivery log.
--
-- Changes enter the outbox in the transaction that makes them: a statement trigger on
-- case_events (one INSERT … SELECT per statement, however many events it wrote) and row
-- triggers on grids and components add one row per destination. A delivered row is deleted, so
-- the outbox holds only what is still owed (pending) or given up on (dead); docs/exchange.md
-- explains why this rather than a cursor over case_events.
CREATE TABLE exchange_destinations (
    id                 text PRIMARY KEY,
    code               text NOT NULL UNIQUE,
    name               text NOT NULL DEFAULT '',
    url                text NOT NULL,
    profile            text NOT NULL,
    enabled            boolean NOT NULL DEFAULT true,
    batch_size         integer NOT NULL,
    concurrency        integer NOT NULL,
    timeout_ms         integer NOT NULL,
    -- the last month whose indicators were queued (YYYY-MM)
    indicators_through text NOT NULL DEFAULT '',
    -- consecutive failures of whole batches (the receiver down, timing out, 5xx) and the pause
    -- they imposed (ms since the epoch)
    failures           integer NOT NULL DEFAULT 0,
    paused_until       bigint NOT NULL DEFAULT 0,
    delivered_total    bigint NOT NULL DEFAULT 0,
    last_attempt_at    timestamptz,
    last_success_at    timestamptz,
    last_status        integer NOT NULL DEFAULT 0,
    last_error         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);

-- One change owed to one destination. subject is the stream whose order is kept (a case:
-- "case:<id>", ordered by seq = the event's version; a grid, a component, a month's indicators:
-- seq 0, ordered by id); ref names the change (the event id, the grid code, the month).
-- next_attempt_at (ms since the epoch) is when the row is due: at first the event's time (a
-- snapshot: 0, at once), after a refusal or a failed batch the end of its backoff. A claim
-- leases the row until leased_until and stamps it with its batch's token (claim), so that a late
-- answer to a lease that ran out changes nothing; attempts counts claims, failures the
-- receiver's refusals of the item. A claim changes no indexed column, so it can be a HOT update
-- (the table leaves room on its pages for them).
-- The table has no foreign key and no unique key but its id: every index and check is paid by
-- the case loop's writes (a replay looks for the rows it would repeat; DeleteDestination removes
-- a destination's rows).
CREATE TABLE exchange_outbox (
    id              bigserial PRIMARY KEY,
    destination_id  text NOT NULL,
    kind            text NOT NULL,
    subject         text NOT NULL,
    seq             bigint NOT NULL,
    ref             text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,
    failures        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    leased_until    bigint NOT NULL DEFAULT 0,
    claim           bigint NOT NULL DEFAULT 0,
    last_status     integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL
) WITH (fillfactor = 70);
-- The claim reads due rows in order; the order check looks for an earlier row of the subject.
CREATE INDEX exchange_outbox_due ON exchange_outbox (destination_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX exchange_outbox_subject ON exchange_outbox (destination_id, subject, seq, id);
CREATE INDEX exchange_outbox_dead ON exchange_outbox (destination_id, id) WHERE status = 'dead';

-- The delivery log: one row per batch sent (or failed to send), the newest few thousand per
-- destination kept.
CREATE TABLE exchange_log (
    id             bigserial PRIMARY KEY,
    destination_id text NOT NULL REFERENCES exchange_destinations (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL,
    batch_id       text NOT NULL,
    items          integer NOT NULL,
    delivered      integer NOT NULL,
    duplicates     integer NOT NULL,
    retried        integer NOT NULL,
    rejected       integer NOT NULL,
    http_status    integer NOT NULL,
    latency_ms     integer NOT NULL,
    error          text NOT NULL DEFAULT ''
);
CREATE INDEX exchange_log_destination ON exchange_log (destination_id, id);

-- The trigger functions keep the tenant's search path of their creation (FROM CURRENT): they
-- write the tenant's own outbox whoever inserts, even a session that did not set the path.
CREATE FUNCTION exchange_case_events() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'case_event', 'case:' || n.case_id, n.version, n.id,
           (extract(epoch FROM n.at) * 1000)::bigint, n.at
    FROM exchange_new_events n CROSS JOIN exchange_destinations d;
    RETURN NULL;
END $$;
CREATE TRIGGER case_events_exchange AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS exchange_new_events
    FOR EACH STATEMENT EXECUTE FUNCTION exchange_case_events();

-- A grid's or a component's change: TG_ARGV[0] is the kind. A snapshot changed again before its
-- row was first claimed needs no second row (the delivery reads the current state); two
-- transactions racing past this check make two rows of the same state, which go with the same key.
CREATE FUNCTION exchange_snapshot() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
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
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = TG_ARGV[0] || ':' || v_code AND o.attempts = 0 AND o.status = 'pending');
    RETURN NULL;
END $$;
CREATE TRIGGER grids_exchange AFTER INSERT OR UPDATE OR DELETE ON grids
    FOR EACH ROW EXECUTE FUNCTION exchange_snapshot('grid');
CREATE TRIGGER components_exchange AFTER INSERT OR UPDATE OR DELETE ON components
    FOR EACH ROW EXECUTE FUNCTION exchange_snapshot('component');
