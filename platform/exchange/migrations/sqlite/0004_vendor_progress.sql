-- How many records an import run's file holds, so that the console shows a run's progress as
-- records done of the total (docs/exchange.md, "Vendor import"); 0 for runs from before.
ALTER TABLE vendor_runs ADD COLUMN records_total integer NOT NULL DEFAULT 0;
