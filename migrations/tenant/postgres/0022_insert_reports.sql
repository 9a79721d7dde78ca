-- insert_reports writes a group of prepared reports of one year (platform/cases: insertReportsPG):
-- the year's counter, the cases numbered from it and their first events, in one call. The rows
-- arrive as JSON documents keyed by column, read into the tables' own row types, so the function
-- needs no change when a column is added. PL/pgSQL keeps the plans of its statements for the
-- connection, which a one-off statement of the same shape would have planned on every call.
-- Numbers are formatted as platform/cases formats them: <prefix><n zero-padded to six digits>.
CREATE FUNCTION insert_reports(p_year integer, p_prefix text, p_cases jsonb, p_events jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    k bigint := jsonb_array_length(p_cases);
    v_last bigint;
BEGIN
    INSERT INTO case_counters (year, last) VALUES (p_year, k)
        ON CONFLICT (year) DO UPDATE SET last = case_counters.last + EXCLUDED.last
        RETURNING last INTO v_last;
    INSERT INTO cases
        SELECT r.*
        FROM jsonb_array_elements(p_cases) WITH ORDINALITY AS t (doc, i),
            LATERAL jsonb_populate_record(NULL::cases, t.doc || jsonb_build_object(
                'seq', p_year::bigint * 100000000 + v_last - k + t.i,
                'number', p_prefix || lpad((v_last - k + t.i)::text, greatest(6, length((v_last - k + t.i)::text)), '0'))) AS r;
    INSERT INTO case_events
        SELECT r.* FROM jsonb_populate_recordset(NULL::case_events, p_events) AS r;
    RETURN v_last;
END
$$;
