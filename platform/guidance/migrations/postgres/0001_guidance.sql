-- Guidance and supervision (platform/guidance): the two-level flows between a prefecture and its
-- counties. Every tenant has every table; a prefecture writes the first group (what it publishes
-- and its judgements), a county the second (its own receipts and answers). Neither ever writes
-- the other's: each side reads the other's rows only through the module's channel, read-only
-- (docs/guidance.md). Times are Unix milliseconds.

-- The prefecture's side.
CREATE TABLE guidance_notices (
    id           text PRIMARY KEY,
    kind         text NOT NULL,
    title        text NOT NULL,
    body         text NOT NULL DEFAULT '',
    ack_due_at   bigint,
    all_counties boolean NOT NULL DEFAULT false,
    origin       text NOT NULL DEFAULT '',
    published_by text NOT NULL DEFAULT '',
    published_at bigint NOT NULL
);
CREATE INDEX guidance_notices_published ON guidance_notices (published_at);

-- Whom an item goes to: a notice, a task or a template (item_id) and a county (its tenant id).
CREATE TABLE guidance_targets (
    item_id   text NOT NULL,
    county_id text NOT NULL,
    PRIMARY KEY (item_id, county_id)
);
CREATE INDEX guidance_targets_county ON guidance_targets (county_id);

-- Files of an item (a notice's attachments, a response's photos), in the object store.
CREATE TABLE guidance_files (
    id           text PRIMARY KEY,
    item_id      text NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,
    created_at   bigint NOT NULL
);
CREATE INDEX guidance_files_item ON guidance_files (item_id);

CREATE TABLE guidance_tasks (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    body        text NOT NULL DEFAULT '',
    checklist   text NOT NULL DEFAULT '[]',
    points      text NOT NULL DEFAULT '[]',
    due_at      bigint NOT NULL,
    opened_by   text NOT NULL DEFAULT '',
    opened_at   bigint NOT NULL
);
CREATE INDEX guidance_tasks_opened ON guidance_tasks (opened_at);

-- The prefecture's judgement of a county's answer to a task: scored (0–100) or sent back.
CREATE TABLE guidance_reviews (
    id         text PRIMARY KEY,
    task_id    text NOT NULL,
    county_id  text NOT NULL,
    response_id text NOT NULL,
    verdict    text NOT NULL,
    score      integer,
    comment    text NOT NULL DEFAULT '',
    reviewed_by text NOT NULL DEFAULT '',
    reviewed_at bigint NOT NULL,
    CHECK (verdict IN ('scored', 'returned')),
    CHECK (score IS NULL OR (score >= 0 AND score <= 100))
);
CREATE INDEX guidance_reviews_task ON guidance_reviews (task_id, county_id, reviewed_at);

CREATE TABLE guidance_templates (
    id         text PRIMARY KEY,
    title      text NOT NULL,
    fields     text NOT NULL DEFAULT '[]',
    due_day    integer NOT NULL DEFAULT 5,
    created_by text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    archived   boolean NOT NULL DEFAULT false
);

-- Spot checks (核查抽检): closed cases of a county drawn with a seed, for re-inspection.
CREATE TABLE guidance_spotchecks (
    id         text PRIMARY KEY,
    county_id  text NOT NULL,
    seed       bigint NOT NULL,
    size       integer NOT NULL,
    from_at    bigint NOT NULL,
    to_at      bigint NOT NULL,
    case_ids   text NOT NULL DEFAULT '[]',
    due_at     bigint NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created_at bigint NOT NULL
);

-- The county's side.
CREATE TABLE guidance_receipts (
    notice_id text PRIMARY KEY,
    read_at   bigint,
    read_by   text NOT NULL DEFAULT '',
    acked_at  bigint,
    acked_by  text NOT NULL DEFAULT '',
    note      text NOT NULL DEFAULT ''
);

CREATE TABLE guidance_responses (
    id           text PRIMARY KEY,
    task_id      text NOT NULL,
    findings     text NOT NULL,
    checks       text NOT NULL DEFAULT '[]',
    case_ids     text NOT NULL DEFAULT '[]',
    submitted_by text NOT NULL DEFAULT '',
    submitted_at bigint NOT NULL
);
CREATE INDEX guidance_responses_task ON guidance_responses (task_id, submitted_at);

CREATE TABLE guidance_submissions (
    template_id  text NOT NULL,
    period       text NOT NULL,
    "values"     text NOT NULL DEFAULT '{}',
    submitted_by text NOT NULL DEFAULT '',
    submitted_at bigint NOT NULL,
    PRIMARY KEY (template_id, period)
);

-- A county's findings on the cases of a spot check.
CREATE TABLE guidance_rechecks (
    spotcheck_id text NOT NULL,
    case_id      text NOT NULL,
    passed       boolean NOT NULL,
    note         text NOT NULL DEFAULT '',
    checked_by   text NOT NULL DEFAULT '',
    checked_at   bigint NOT NULL,
    PRIMARY KEY (spotcheck_id, case_id)
);
