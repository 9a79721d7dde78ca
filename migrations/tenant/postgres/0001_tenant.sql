-- The first tenant tables. Runs with search_path set to the tenant's schema; no table here may
-- reference the control schema.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL DEFAULT ''
);
