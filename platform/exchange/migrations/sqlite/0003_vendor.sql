-- The vendor import (docs/exchange.md, "Vendor import"): the tenant's field and code mappings of
-- the systems it ran before, every saved version kept; the ledger of records imported, by the
-- vendor's record id (so that a re-run changes nothing and a corrected record updates its case);
-- and the runs, with how far each got (so that a run cut short continues where it stopped).
CREATE TABLE vendor_mappings (
    vendor     text NOT NULL,
    version    integer NOT NULL,
    body       text NOT NULL,
    created_by text NOT NULL DEFAULT '',
    created_at timestamp NOT NULL,
    PRIMARY KEY (vendor, version)
);

-- events: how many history rows the import wrote; history: their digests in order, so that a
-- corrected record whose history only grew appends the new rows.
CREATE TABLE vendor_records (
    vendor     text NOT NULL,
    record_id  text NOT NULL,
    case_id    text NOT NULL REFERENCES cases (id),
    digest     text NOT NULL,
    events     integer NOT NULL,
    history    text NOT NULL DEFAULT '[]',
    run_id     text NOT NULL,
    updated_at timestamp NOT NULL,
    PRIMARY KEY (vendor, record_id)
);
CREATE INDEX vendor_records_case ON vendor_records (case_id);

CREATE TABLE vendor_runs (
    id              text PRIMARY KEY,
    vendor          text NOT NULL,
    mapping_version integer NOT NULL,
    file_sha256     text NOT NULL,
    file_name       text NOT NULL DEFAULT '',
    state           text NOT NULL CHECK (state IN ('running', 'done')),
    records_done    integer NOT NULL DEFAULT 0,
    created         integer NOT NULL DEFAULT 0,
    updated         integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    kept            integer NOT NULL DEFAULT 0,
    events          integer NOT NULL DEFAULT 0,
    started_by      text NOT NULL DEFAULT '',
    started_at      timestamp NOT NULL,
    finished_at     timestamp
);
CREATE INDEX vendor_runs_file ON vendor_runs (vendor, file_sha256, state);
