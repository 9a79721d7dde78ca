-- The claim of an alarm's case (platform/monitoring/alarm_cases.go): a replica that opens an
-- alarm's case first sets case_claim_until (ms), so that no other replica opens it too while the
-- claim lasts. A claim left behind (a crash between the report and the link) expires; whoever
-- takes it next looks the case up by the alarm's id in its description before reporting again.
ALTER TABLE monitoring_alarms ADD COLUMN case_claim_until bigint;
