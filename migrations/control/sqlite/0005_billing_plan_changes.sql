-- Plan changes as history: which plan a tenant is on from which month. Rating a month uses the
-- plan in effect at its start; a change can be scheduled for a later month. control.tenants.plan
-- stays the plan in effect now (updated when a change falls due).
CREATE TABLE control.billing_plan_changes (
    id             integer PRIMARY KEY AUTOINCREMENT,
    tenant_id      text NOT NULL REFERENCES tenants (id),
    from_plan      text NOT NULL,
    to_plan        text NOT NULL REFERENCES billing_plans (code),
    effective_from timestamp NOT NULL, -- the start of a month, China time
    memo           text NOT NULL DEFAULT '',
    requested_at   timestamp NOT NULL,
    requested_by   text NOT NULL DEFAULT ''
);
CREATE INDEX control.billing_plan_changes_tenant ON billing_plan_changes (tenant_id, effective_from, id);
