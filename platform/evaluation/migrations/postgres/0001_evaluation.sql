-- Evaluation (platform/evaluation): the tenant's weighting schemes, each in force from a day, and
-- the indexes its counts read the case history by (events of an action in a period).
CREATE TABLE evaluation_schemes (
    id             text PRIMARY KEY,
    effective_from text NOT NULL UNIQUE,
    weights        text NOT NULL,
    note           text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    created_by     text NOT NULL
);
CREATE INDEX case_events_action_at ON case_events (action, at);
CREATE INDEX case_events_at ON case_events (at);
