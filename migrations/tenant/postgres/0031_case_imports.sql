-- The cases each import run created or updated (platform/exchange's vendor import writes them
-- through cases.MarkImportedIn, in the transaction that writes the cases): the case list's filter
-- import_run. A case is listed under every run that created or changed it; a run that left it
-- unchanged or kept does not list it.
CREATE TABLE case_imports (
    run     text NOT NULL,
    case_id text NOT NULL REFERENCES cases (id),
    PRIMARY KEY (run, case_id)
);
