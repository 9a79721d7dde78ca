-- A case's whole history in one place: every event of the case, in version order, with the
-- columns the counts read. The counts read each history of a period by case id; without this
-- index each of a case's ~9 events is a heap fetch from a different page (the history is
-- appended in time order, interleaved with every other case's), which was two thirds of a
-- county's month on PostgreSQL (docs/benchmarks.md#evaluation); here too a case's history is read
-- from the index alone. It costs about the size of case_events again. (SQLite has no INCLUDE:
-- the columns are the index's key after case_id and version.)
CREATE INDEX case_events_history ON case_events (case_id, version, action, post, actor_id, actor_email, from_state, at, detail);

-- The filings (file, self_handle) by time with their case: the cases a prefecture's comparison
-- and the regions' counts read (Summarize, StoreTotals) are found from this small index alone,
-- instead of visiting every event of the period in the table to see its action.
CREATE INDEX case_events_filed ON case_events (at, case_id) WHERE action IN ('file', 'self_handle');
