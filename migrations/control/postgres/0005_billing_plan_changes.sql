-- Plan changes as history: which plan a tenant is on from which month. Rating a month uses the
-- plan in effect at its start; a change can be scheduled for a later month. control.tenants.plan
-- stays the plan in effect now (updated when a change falls due).
CREATE TABLE control.billing_plan_changes (
    id             bigserial PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES control.tenants (id),
    from_plan      text NOT NULL,
    to_plan        text NOT NULL REFERENCES control.billing_plans (code),
    effective_from timestamptz NOT NULL, -- the start of a month, China time
    memo           text NOT NULL DEFAULT '',
    requested_at   timestamptz NOT NULL,
    requested_by   text NOT NULL DEFAULT ''
);
CREATE INDEX billing_plan_changes_tenant ON control.billing_plan_changes (tenant_id, effective_from, id);
