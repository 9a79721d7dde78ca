-- The instant a period's stored totals count up to: the period's end once it has ended; for the
-- period still running (a month, quarter or year the loop "totals" keeps as it goes), shortly
-- before they were counted. Summarize adds to a running period's row what the events since
-- as_of changed instead of counting the whole period again (docs/evaluation.md, "Stored
-- totals"). The rows stored before are of ended periods: as of their end. (SQLite cannot make
-- an added column NOT NULL without a default; every row is written with it.)
ALTER TABLE evaluation_totals ADD COLUMN as_of timestamp;
UPDATE evaluation_totals SET as_of = period_to;
