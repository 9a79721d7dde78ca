-- Notifications (platform/notify): the events to notify (filled in the transaction that makes
-- them: a row trigger on case_events for dispatch and rework; the loop adds overdue, deadline
-- warnings and alarms by key), each recipient's inbox row, and one delivery per (event,
-- recipient, channel), the outbox the delivery loop works through. Times are Unix milliseconds.
CREATE TABLE notify_events (
    key        text PRIMARY KEY,
    kind       text NOT NULL,
    case_id    text,
    ref        text NOT NULL DEFAULT '',
    detail     text NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL DEFAULT 0,
    done_at    bigint
);
CREATE INDEX notify_events_pending ON notify_events (created_at) WHERE done_at IS NULL;


CREATE TRIGGER case_events_notify AFTER INSERT ON case_events
WHEN NEW.action IN ('dispatch', 'rework')
BEGIN
    INSERT OR IGNORE INTO notify_events (key, kind, case_id, ref, created_at)
    VALUES ('case_event:' || NEW.id, CASE NEW.action WHEN 'dispatch' THEN 'dispatched' ELSE 'rework' END,
            NEW.case_id, NEW.id, CAST(round((julianday(NEW.at) - 2440587.5) * 86400000) AS INTEGER));
END;

CREATE TABLE notify_inbox (
    id          text PRIMARY KEY,
    event_key   text NOT NULL,
    identity_id text NOT NULL,
    kind        text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    case_id     text,
    created_at  bigint NOT NULL,
    read_at     bigint,
    UNIQUE (event_key, identity_id)
);
CREATE INDEX notify_inbox_identity ON notify_inbox (identity_id, created_at);

CREATE TABLE notify_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key       text NOT NULL,
    recipient       text NOT NULL,
    channel         text NOT NULL,
    target          text NOT NULL,
    subject         text NOT NULL,
    body            text NOT NULL,
    params          text NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint NOT NULL,
    lease_until     bigint NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    sent_at         bigint,
    created_at      bigint NOT NULL,
    UNIQUE (event_key, recipient, channel)
);
CREATE INDEX notify_deliveries_due ON notify_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE notify_preferences (
    identity_id text PRIMARY KEY,
    channels    text NOT NULL DEFAULT '{}',
    digest      boolean NOT NULL DEFAULT false,
    updated_at  bigint NOT NULL
);

CREATE TABLE notify_settings (
    id              integer PRIMARY KEY CHECK (id = 1),
    quiet_start     integer NOT NULL DEFAULT 1320,
    quiet_end       integer NOT NULL DEFAULT 420,
    warn_minutes    integer NOT NULL DEFAULT 120,
    wecom           boolean NOT NULL DEFAULT false,
    smtp_host       text NOT NULL DEFAULT '',
    smtp_port       integer NOT NULL DEFAULT 0,
    smtp_tls        text NOT NULL DEFAULT 'starttls',
    smtp_username   text NOT NULL DEFAULT '',
    smtp_from       text NOT NULL DEFAULT '',
    sms_sign_name   text NOT NULL DEFAULT '',
    sms_template    text NOT NULL DEFAULT '',
    templates       text NOT NULL DEFAULT '{}',
    updated_at      bigint NOT NULL
);
