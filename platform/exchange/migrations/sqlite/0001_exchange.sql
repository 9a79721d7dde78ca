-- Data exchange (platform/exchange): the tenant's destinations (the provincial platform, and the
-- nation through it), the outbox of changes waiting for each, and the delivery log.
--
-- Changes enter the outbox in the transaction that makes them: row triggers on case_events,
-- grids and components add one row per destination (a grid or component changed again before
-- its row was first claimed gets no second row: the delivery reads the current state). A delivered row is deleted, so
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
    last_attempt_at    timestamp,
    last_success_at    timestamp,
    last_status        integer NOT NULL DEFAULT 0,
    last_error         text NOT NULL DEFAULT '',
    created_at         timestamp NOT NULL,
    updated_at         timestamp NOT NULL
);

-- One change owed to one destination. subject is the stream whose order is kept (a case:
-- "case:<id>", ordered by seq = the event's version; a grid, a component, a month's indicators:
-- seq 0, ordered by id); ref names the change (the event id, the grid code, the month).
-- next_attempt_at (ms since the epoch) is when the row is due: at first the event's time (a
-- snapshot: 0, at once), after a refusal or a failed batch the end of its backoff. A claim
-- leases the row until leased_until and stamps it with its batch's token (claim), so that a late
-- answer to a lease that ran out changes nothing; attempts counts claims, failures the
-- receiver's refusals of the item.
-- The table has no foreign key and no unique key but its id: every index and check is paid by
-- the case loop's writes (a replay looks for the rows it would repeat; DeleteDestination removes
-- a destination's rows).
CREATE TABLE exchange_outbox (
    id              integer PRIMARY KEY AUTOINCREMENT,
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
    created_at      timestamp NOT NULL
);
-- The claim reads due rows in order; the order check looks for an earlier row of the subject.
CREATE INDEX exchange_outbox_due ON exchange_outbox (destination_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX exchange_outbox_subject ON exchange_outbox (destination_id, subject, seq, id);
CREATE INDEX exchange_outbox_dead ON exchange_outbox (destination_id, id) WHERE status = 'dead';

-- The delivery log: one row per batch sent (or failed to send), the newest few thousand per
-- destination kept.
CREATE TABLE exchange_log (
    id             integer PRIMARY KEY AUTOINCREMENT,
    destination_id text NOT NULL REFERENCES exchange_destinations (id) ON DELETE CASCADE,
    at             timestamp NOT NULL,
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

CREATE TRIGGER case_events_exchange AFTER INSERT ON case_events
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'case_event', 'case:' || NEW.case_id, NEW.version, NEW.id,
           CAST(unixepoch(NEW.at, 'subsec') * 1000 AS INTEGER), NEW.at
    FROM exchange_destinations d;
END;
CREATE TRIGGER grids_exchange_insert AFTER INSERT ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER grids_exchange_update AFTER UPDATE ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER grids_exchange_delete AFTER DELETE ON grids
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'grid', 'grid:' || OLD.code, 0, OLD.code, 0, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'grid:' || OLD.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_insert AFTER INSERT ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_update AFTER UPDATE ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || NEW.code, 0, NEW.code, 0, NEW.updated_at
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || NEW.code AND o.attempts = 0 AND o.status = 'pending');
END;
CREATE TRIGGER components_exchange_delete AFTER DELETE ON components
BEGIN
    INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at)
    SELECT d.id, 'component', 'component:' || OLD.code, 0, OLD.code, 0, strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')
    FROM exchange_destinations d
    WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = d.id
        AND o.subject = 'component:' || OLD.code AND o.attempts = 0 AND o.status = 'pending');
END;
