-- The vendor import of grids, components, departments and staff (docs/exchange.md, "Vendor
-- import"): the ledger of the records imported, by entity and the vendor's record id, with the
-- id of ours each became (a grid's or a component's code, a department's or a staff member's
-- id) and the digest of what was imported, so that a re-run changes nothing and a corrected row
-- updates its record. A run records which entity it imported (cases for the case import).
CREATE TABLE vendor_entities (
    vendor     text NOT NULL,
    entity     text NOT NULL CHECK (entity IN ('grids', 'components', 'departments', 'staff')),
    record_id  text NOT NULL,
    target     text NOT NULL,
    digest     text NOT NULL,
    run_id     text NOT NULL,
    updated_at timestamp NOT NULL,
    PRIMARY KEY (vendor, entity, record_id)
);

ALTER TABLE vendor_runs ADD COLUMN entity text NOT NULL DEFAULT 'cases';
