-- The 12345 government hotline (政务服务便民热线): the work orders (工单) it submitted, each
-- linked to the case it became, and the tenant's mapping of the hotline's categories to its
-- class codes. The outcome flows back through the outbox (profile cityops-12345/1).
--
-- A work order is claimed (case_id NULL) before its case is reported, so that two submissions
-- of one number make one case; digest is a digest of what was submitted, so a resubmission with
-- different content is told apart from a repeat.
CREATE TABLE hotline_orders (
    number      text PRIMARY KEY,
    case_id     text,
    digest      text NOT NULL,
    deadline_at timestamp,
    created_at  timestamp NOT NULL,
    -- the citizen's satisfaction as the hotline's return visit (回访) found it, when it told us
    satisfaction         text NOT NULL DEFAULT '',
    satisfaction_comment text NOT NULL DEFAULT '',
    satisfaction_at      timestamp
);
CREATE INDEX hotline_orders_case ON hotline_orders (case_id);

-- category: the hotline's own category text; '*' is the default for categories not listed.
CREATE TABLE hotline_classes (
    category   text PRIMARY KEY,
    kind       text NOT NULL,
    class_code text NOT NULL,
    updated_at timestamp NOT NULL
);
