-- Monitoring's rules and alarms (platform/monitoring/alarms.go, rules.go).
--
-- A rule watches one metric of every device of a type, or of one device (device_id): a value
-- above or below a threshold, a change faster than a rate (per minute), or no reading for some
-- minutes. clear_at is its hysteresis: an alarm raised above the threshold clears only once the
-- value is back at or below clear_at (below: at or above); NULL clears at the threshold.
-- action says what an alarm of the rule does about a case: nothing ('alarm'), wait for a person
-- to confirm ('confirm'), or open one at once ('case', with the case's kind, class and text).
--
-- An alarm is raised, then maybe acknowledged, then cleared (by the rule when the value is back,
-- by a person, or by its case being closed or voided), each with who and when. open_key is
-- '<rule>:<device>' (or '<source>:<kind>:<device>' for alarms from video analytics) while the
-- alarm is not cleared and NULL after: at most one open alarm per rule and device, so a device
-- that keeps crossing the threshold counts hits on its open alarm instead of raising new ones.
-- case_status: none, waiting (for a person to confirm), pending (to be opened), opened, failed
-- (case_error says why; the loop tries again).
CREATE TABLE monitoring_rules (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    device_type text NOT NULL,
    device_id   bigint REFERENCES monitoring_devices (id) ON DELETE CASCADE,
    metric      text NOT NULL DEFAULT '',
    kind        text NOT NULL,
    threshold   double precision NOT NULL,
    clear_at    double precision,
    severity    text NOT NULL,
    action      text NOT NULL,
    case_kind   text NOT NULL DEFAULT '',
    class_code  text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    enabled     boolean NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX monitoring_rules_type ON monitoring_rules (device_type);

CREATE TABLE monitoring_alarms (
    id              text PRIMARY KEY,
    rule_id         text REFERENCES monitoring_rules (id) ON DELETE SET NULL,
    device_id       bigint NOT NULL REFERENCES monitoring_devices (id) ON DELETE CASCADE,
    open_key        text UNIQUE,
    source          text NOT NULL,
    kind            text NOT NULL,
    metric          text NOT NULL DEFAULT '',
    severity        text NOT NULL,
    state           text NOT NULL,
    message         text NOT NULL DEFAULT '',
    value           double precision,
    peak            double precision,
    raised_at       bigint NOT NULL,
    last_at         bigint NOT NULL,
    hits            integer NOT NULL,
    acknowledged_at bigint,
    acknowledged_by text,
    cleared_at      bigint,
    cleared_by      text,
    case_status     text NOT NULL,
    case_id         text,
    case_error      text,
    updated_at      bigint NOT NULL
);
CREATE INDEX monitoring_alarms_device ON monitoring_alarms (device_id, raised_at);
CREATE INDEX monitoring_alarms_state ON monitoring_alarms (state, raised_at);
CREATE INDEX monitoring_alarms_case ON monitoring_alarms (case_id);
CREATE INDEX monitoring_alarms_updated ON monitoring_alarms (updated_at);
CREATE INDEX monitoring_alarms_pending ON monitoring_alarms (case_status) WHERE case_status IN ('pending', 'failed');

-- A case that ends (closed or voided) clears the alarms it was opened for, in the same
-- transaction as the case's change.
CREATE OR REPLACE FUNCTION monitoring_case_ended() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE monitoring_alarms
    SET state = 'cleared', open_key = NULL, cleared_by = 'case',
        cleared_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint,
        updated_at = (extract(epoch FROM clock_timestamp()) * 1000)::bigint
    WHERE case_id = NEW.id AND state <> 'cleared';
    RETURN NULL;
END $$;
CREATE TRIGGER cases_monitoring_ended AFTER UPDATE OF state ON cases
    FOR EACH ROW WHEN (NEW.state IN ('closed', 'voided') AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION monitoring_case_ended();
