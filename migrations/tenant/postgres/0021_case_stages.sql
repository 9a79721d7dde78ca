-- Stage time limits (platform/cases/stages.go): every stage of the loop is timed, not only the
-- disposal. A case keeps the clock of the stage it is in; case_stage_limits holds the tenant's
-- overrides of the default limits (a stage without a row uses the default).
ALTER TABLE cases ADD COLUMN urgent boolean NOT NULL DEFAULT false;
ALTER TABLE cases ADD COLUMN stage text NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN stage_started_at timestamptz;
ALTER TABLE cases ADD COLUMN stage_limit_amount double precision;
ALTER TABLE cases ADD COLUMN stage_limit_unit text;
ALTER TABLE cases ADD COLUMN stage_deadline_at timestamptz;
ALTER TABLE cases ADD COLUMN stage_overdue boolean NOT NULL DEFAULT false;
ALTER TABLE cases ADD COLUMN stage_overtime_multiple double precision NOT NULL DEFAULT 0;

-- Cases from before stage timing learn their stage; their clock starts at their next action.
UPDATE cases SET stage = CASE state
        WHEN 'reported' THEN 'accept' WHEN 'verifying' THEN 'verify' WHEN 'accepted' THEN 'file'
        WHEN 'filed' THEN 'dispatch' WHEN 'fed_back' THEN 'send_check' WHEN 'checking' THEN 'check'
        WHEN 'checked' THEN 'close' WHEN 'closed' THEN '' WHEN 'voided' THEN '' ELSE 'handle' END,
    stage_started_at = CASE WHEN state IN ('closed', 'voided') THEN NULL ELSE updated_at END;

-- overdue=true lists a case whose disposal or current stage ran over.
DROP INDEX cases_overdue_seq;
CREATE INDEX cases_any_overdue_seq ON cases (seq) WHERE overdue OR stage_overdue;
-- The overdue job reads only the running stage clocks past their deadline (the handling stage
-- mirrors the disposal clock, which has its own index).
CREATE INDEX cases_stage_deadline ON cases (stage_deadline_at) WHERE stage <> 'handle';

CREATE TABLE case_stage_limits (
    stage         text PRIMARY KEY,
    limit_amount  double precision NOT NULL,
    limit_unit    text NOT NULL,
    urgent_amount double precision,
    urgent_unit   text,
    updated_at    timestamptz NOT NULL,
    updated_by    text NOT NULL
);
