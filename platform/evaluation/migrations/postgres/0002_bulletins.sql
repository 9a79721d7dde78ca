-- Evaluation bulletins (评价通报): each published version of a month's or a quarter's bulletin,
-- with the figures it was made from and its two documents. Published is final: a correction is
-- the next version, and the trigger refuses any change or removal of a row.
CREATE TABLE evaluation_bulletins (
    id            text PRIMARY KEY,
    period        text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('month', 'quarter')),
    version       integer NOT NULL CHECK (version >= 1),
    published_at  timestamptz NOT NULL,
    published_by  text NOT NULL,
    figures       text NOT NULL,
    xlsx          bytea NOT NULL,
    xlsx_sha256   text NOT NULL,
    pdf           bytea NOT NULL,
    pdf_sha256    text NOT NULL,
    UNIQUE (period, version)
);
CREATE FUNCTION evaluation_bulletins_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evaluation_bulletins is immutable once published' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER evaluation_bulletins_no_change BEFORE UPDATE OR DELETE ON evaluation_bulletins
    FOR EACH ROW EXECUTE FUNCTION evaluation_bulletins_immutable();
CREATE TRIGGER evaluation_bulletins_no_truncate BEFORE TRUNCATE ON evaluation_bulletins
    FOR EACH STATEMENT EXECUTE FUNCTION evaluation_bulletins_immutable();
