-- Evaluation bulletins (评价通报): each published version of a month's or a quarter's bulletin,
-- with the figures it was made from and its two documents. Published is final: a correction is
-- the next version, and the triggers refuse any change or removal of a row.
CREATE TABLE evaluation_bulletins (
    id            text PRIMARY KEY,
    period        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('month', 'quarter')),
    version       integer NOT NULL CHECK (version >= 1),
    published_at  timestamp NOT NULL,
    published_by  text NOT NULL,
    figures       text NOT NULL,
    xlsx          blob NOT NULL,
    xlsx_sha256   text NOT NULL,
    pdf           blob NOT NULL,
    pdf_sha256    text NOT NULL,
    UNIQUE (period, version)
);
CREATE TRIGGER evaluation_bulletins_no_update BEFORE UPDATE ON evaluation_bulletins
BEGIN SELECT RAISE(ABORT, 'evaluation_bulletins is immutable once published'); END;
CREATE TRIGGER evaluation_bulletins_no_delete BEFORE DELETE ON evaluation_bulletins
BEGIN SELECT RAISE(ABORT, 'evaluation_bulletins is immutable once published'); END;
