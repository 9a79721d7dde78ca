-- A case's events of one action in version order, with their time: the counts' checks of what
-- happened to a case afterwards (closed, filed, returned, fed back, reworked by the period's
-- end) read this index alone instead of fetching every event of the case.
CREATE INDEX case_events_case_action ON case_events (case_id, action, version, at);
