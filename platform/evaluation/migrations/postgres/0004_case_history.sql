-- A case's whole history in one place: every event of the case, in version order, with the
-- columns the counts read. The counts read each history of a period by case id; without this
-- index each of a case's ~9 events is a heap fetch from a different page (the history is
-- appended in time order, interleaved with every other case's), which was two thirds of a
-- county's month (docs/benchmarks.md#evaluation). case_events is append-only, so the index is
-- read without visiting the heap once vacuum has marked the pages all-visible. It costs about
-- the size of case_events again.
CREATE INDEX case_events_history ON case_events (case_id, version) INCLUDE (action, post, actor_id, actor_email, from_state, at, detail);

-- The filings (file, self_handle) by time with their case: the cases a prefecture's comparison
-- and the regions' counts read (Summarize, StoreTotals) are found from this small index alone,
-- instead of visiting every event of the period in the table to see its action.
CREATE INDEX case_events_filed ON case_events (at) INCLUDE (case_id) WHERE action IN ('file', 'self_handle');
