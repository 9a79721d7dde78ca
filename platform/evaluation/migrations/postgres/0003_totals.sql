-- A finished period's totals as Summarize counts them (reported, filed, closed, closed on time,
-- reported by inspectors), kept so that a prefecture's comparison of finished periods reads them
-- instead of counting its counties' histories again: the loop "totals" stores each month,
-- quarter and year once it has ended. newest is the newest event before the period's end when
-- they were counted; a row whose newest is no longer the newest is counted again, and a writer of
-- past history (the vendor import) deletes the tenant's rows.
CREATE TABLE evaluation_totals (
    period_from        timestamp NOT NULL,
    period_to          timestamp NOT NULL,
    newest             timestamp NOT NULL,
    reported           bigint NOT NULL,
    filed              bigint NOT NULL,
    closed             bigint NOT NULL,
    closed_on_time     bigint NOT NULL,
    inspector_reported bigint NOT NULL,
    computed_at        timestamp NOT NULL,
    PRIMARY KEY (period_from, period_to)
);
