-- The first tenant tables. A tenant's SQLite file is the main database of its connections; no
-- table here may reference the control schema.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamp NOT NULL,
    updated_by text NOT NULL DEFAULT ''
);
