-- The case loop (GB/T 30428.8): cases, their append-only history, their photos, and the
-- per-year counter behind the readable case numbers. platform/cases/doc.go explains the states.
CREATE TABLE case_counters (
    year integer PRIMARY KEY,
    last integer NOT NULL
);

CREATE TABLE cases (
    id                  text PRIMARY KEY,
    number              text NOT NULL UNIQUE,
    seq                 integer NOT NULL UNIQUE,
    state               text NOT NULL,
    version             integer NOT NULL,
    source              text NOT NULL,
    kind                text NOT NULL CHECK (kind IN ('component', 'event')),
    class_code          text NOT NULL,
    description         text NOT NULL DEFAULT '',
    address             text NOT NULL DEFAULT '',
    lon                 double precision NOT NULL,
    lat                 double precision NOT NULL,
    grid_code           text,
    responsibility_code text,
    inspector_id        text,
    reporter_name_enc   text,
    reporter_phone_enc  text,
    reported_by         text NOT NULL,
    standard_id         text,
    department_id       text,
    limit_amount        double precision,
    limit_unit          text,
    extensions          text NOT NULL DEFAULT '[]',
    pauses              text NOT NULL DEFAULT '[]',
    pending             text NOT NULL DEFAULT '',
    clock_start         timestamp,
    deadline_at         timestamp,
    clock_stopped_at    timestamp,
    overdue             boolean NOT NULL DEFAULT false,
    overtime_multiple   double precision NOT NULL DEFAULT 0,
    supervised          boolean NOT NULL DEFAULT false,
    self_handled        boolean NOT NULL DEFAULT false,
    created_at          timestamp NOT NULL,
    updated_at          timestamp NOT NULL,
    closed_at           timestamp
);
-- The list is ordered by seq (creation order) and filtered by one or two of these; each index
-- ends in seq so that a filter plus the cursor is one range scan.
CREATE INDEX cases_state_seq ON cases (state, seq);
CREATE INDEX cases_class_seq ON cases (kind, class_code, seq);
CREATE INDEX cases_grid_seq ON cases (grid_code, seq);
CREATE INDEX cases_department_seq ON cases (department_id, seq);
CREATE INDEX cases_source_seq ON cases (source, seq);
CREATE INDEX cases_overdue_seq ON cases (seq) WHERE overdue;
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_running_deadline ON cases (deadline_at) WHERE clock_start IS NOT NULL AND clock_stopped_at IS NULL;
CREATE INDEX cases_location ON cases (lat, lon);

CREATE TABLE case_events (
    id          text PRIMARY KEY,
    case_id     text NOT NULL REFERENCES cases (id),
    version     integer NOT NULL,
    action      text NOT NULL,
    from_state  text NOT NULL,
    to_state    text NOT NULL,
    actor_id    text NOT NULL,
    actor_email text NOT NULL DEFAULT '',
    post        text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    attachments text NOT NULL DEFAULT '[]',
    detail      text NOT NULL DEFAULT '{}',
    at          timestamp NOT NULL,
    UNIQUE (case_id, version)
);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

CREATE TABLE case_photos (
    id          text PRIMARY KEY,
    case_id     text NOT NULL REFERENCES cases (id),
    sha256      text NOT NULL,
    media_type  text NOT NULL,
    size        integer NOT NULL,
    uploaded_by text NOT NULL,
    created_at  timestamp NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id);
