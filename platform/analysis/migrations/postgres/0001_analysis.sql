-- Analysis (platform/analysis): the tenant's thresholds, one row.
CREATE TABLE analysis_settings (
    id         integer PRIMARY KEY CHECK (id = 1),
    value      text NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
