-- The case list's filter import_run reads case_imports (tenant migration 0031), which the import
-- fills from now on with every case a run created or updated. For the runs before it, the ledger
-- knows only the last run that wrote each record: those cases are listed under that run.
INSERT INTO case_imports (run, case_id) SELECT run_id, case_id FROM vendor_records;
