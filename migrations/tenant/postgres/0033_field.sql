-- 城管通, the inspectors' phone workspace (platform/cases field.go, patrol.go). A phone files
-- reports and actions from a queue kept while it has no signal and sends them again until it
-- gets an answer, each with a key it made (Idempotency-Key): the key is written with the case or
-- the action in the same transaction, under a primary key, so a retry (or two at once) finds the
-- first one's result instead of making another.
CREATE TABLE case_report_keys (
    key         text PRIMARY KEY,
    case_id     text NOT NULL REFERENCES cases (id),
    reported_by text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE INDEX case_report_keys_case ON case_report_keys (case_id);

-- The photos a keyed report brought, one row per distinct photo: a retry (or two at once) binds
-- a photo to the case once.
CREATE TABLE case_report_photos (
    key      text NOT NULL REFERENCES case_report_keys (key),
    sha256   text NOT NULL,
    photo_id text NOT NULL REFERENCES case_photos (id),
    PRIMARY KEY (key, sha256)
);

CREATE TABLE case_action_keys (
    key        text PRIMARY KEY,
    case_id    text NOT NULL REFERENCES cases (id),
    action     text NOT NULL,
    actor_id   text NOT NULL,
    version    integer NOT NULL,
    created_at timestamptz NOT NULL
);

-- Patrol tracks (巡查轨迹): the positions an inspector's phone recorded while on duty, uploaded
-- in batches; a batch's key makes its upload idempotent.
CREATE TABLE patrol_batches (
    key             text PRIMARY KEY,
    inspector_id    text NOT NULL,
    inspector_email text NOT NULL,
    points          integer NOT NULL,
    created_at      timestamptz NOT NULL
);

CREATE TABLE patrol_points (
    id           text PRIMARY KEY,
    batch_key    text NOT NULL REFERENCES patrol_batches (key),
    inspector_id text NOT NULL,
    at           timestamptz NOT NULL,
    lon          double precision NOT NULL,
    lat          double precision NOT NULL,
    accuracy     double precision NOT NULL DEFAULT 0
);

CREATE INDEX patrol_points_at ON patrol_points (at, inspector_id);
