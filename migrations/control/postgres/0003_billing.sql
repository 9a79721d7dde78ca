-- Billing: plans and entitlements, usage and its roll-ups, the advance-funding ledger, repayment
-- schedules, and the Stripe outbox and webhook log. All of it is control-plane data: the operator
-- bills tenants, so nothing here lives in a tenant schema. Amounts are int64 fen (CNY).

CREATE TABLE control.billing_plans (
    code           text PRIMARY KEY,
    name_zh        text NOT NULL,
    name_en        text NOT NULL DEFAULT '',
    monthly_fee_fen bigint NOT NULL DEFAULT 0 CHECK (monthly_fee_fen >= 0),
    shared         boolean NOT NULL DEFAULT false,
    modules        text NOT NULL DEFAULT '[]',   -- JSON array of module names switched on
    meters         text NOT NULL DEFAULT '{}',   -- JSON object meter -> {included, unit_price_fen, unit_size}
    updated_at     timestamptz NOT NULL
);

-- Per-tenant billing state: module switches that override the plan, and the Stripe objects.
CREATE TABLE control.billing_accounts (
    tenant_id          uuid PRIMARY KEY REFERENCES control.tenants (id) ON DELETE CASCADE,
    modules            text NOT NULL DEFAULT '{}', -- JSON object module -> bool, overriding the plan
    stripe_customer_id text NOT NULL DEFAULT '',
    stripe_subscription_id text NOT NULL DEFAULT '',
    updated_at         timestamptz NOT NULL
);
CREATE INDEX billing_accounts_customer ON control.billing_accounts (stripe_customer_id);

-- Raw usage events. A repeated idempotency key is counted once (ON CONFLICT DO NOTHING); the
-- roll-ups are updated in the same transaction from the rows actually inserted.
CREATE TABLE control.usage_events (
    id              bigserial PRIMARY KEY,
    tenant_id       uuid NOT NULL,
    meter           text NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity >= 0),
    idempotency_key text NOT NULL,
    occurred_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX usage_events_key ON control.usage_events (idempotency_key);

CREATE TABLE control.usage_rollups (
    tenant_id    uuid NOT NULL,
    meter        text NOT NULL,
    period       text NOT NULL CHECK (period IN ('hour', 'day', 'month')),
    period_start timestamptz NOT NULL,
    quantity     bigint NOT NULL,
    events       bigint NOT NULL,
    PRIMARY KEY (tenant_id, meter, period, period_start)
);

-- The advance-funding ledger: balanced journals of postings (debit positive, credit negative).
CREATE TABLE control.ledger_journals (
    id              bigserial PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES control.tenants (id),
    kind            text NOT NULL CHECK (kind IN ('advance', 'charge', 'repayment', 'adjustment')),
    category        text NOT NULL DEFAULT '',
    amount_fen      bigint NOT NULL,
    memo            text NOT NULL DEFAULT '',
    reference       text NOT NULL DEFAULT '',
    source          text NOT NULL DEFAULT 'api',
    idempotency_key text,
    occurred_at     timestamptz NOT NULL,
    due_on          timestamptz NOT NULL,
    posted_at       timestamptz NOT NULL,
    posted_by       text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX ledger_journals_key ON control.ledger_journals (idempotency_key);
CREATE INDEX ledger_journals_tenant ON control.ledger_journals (tenant_id, occurred_at, id);

CREATE TABLE control.ledger_postings (
    id         bigserial PRIMARY KEY,
    journal_id bigint NOT NULL REFERENCES control.ledger_journals (id),
    tenant_id  uuid NOT NULL,
    account    text NOT NULL CHECK (account IN ('receivable', 'cash', 'revenue', 'credit', 'adjustments', 'interest')),
    amount_fen bigint NOT NULL
);
CREATE INDEX ledger_postings_journal ON control.ledger_postings (journal_id);
CREATE INDEX ledger_postings_tenant ON control.ledger_postings (tenant_id, account);

-- Every journal balances: checked at commit, whatever code wrote it.
CREATE FUNCTION control.ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s bigint; n int;
BEGIN
    SELECT coalesce(sum(amount_fen), 0), count(*) INTO s, n FROM control.ledger_postings WHERE journal_id = NEW.journal_id;
    IF s <> 0 OR n < 2 THEN
        RAISE EXCEPTION 'journal % does not balance (sum %, % postings)', NEW.journal_id, s, n USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON control.ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION control.ledger_check_balanced();

-- The ledger is append-only: corrections are new journals.
CREATE FUNCTION control.ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER ledger_journals_no_change BEFORE UPDATE OR DELETE ON control.ledger_journals
    FOR EACH ROW EXECUTE FUNCTION control.ledger_append_only();
CREATE TRIGGER ledger_postings_no_change BEFORE UPDATE OR DELETE ON control.ledger_postings
    FOR EACH ROW EXECUTE FUNCTION control.ledger_append_only();

-- Repayment schedule: yearly instalments over N years at an optional agreed simple rate.
CREATE TABLE control.repayment_schedules (
    tenant_id     uuid PRIMARY KEY REFERENCES control.tenants (id),
    principal_fen bigint NOT NULL CHECK (principal_fen > 0),
    years         int NOT NULL CHECK (years BETWEEN 1 AND 30),
    start_year    int NOT NULL,
    rate_bp       int NOT NULL DEFAULT 0 CHECK (rate_bp BETWEEN 0 AND 2000),
    due_month     int NOT NULL DEFAULT 12 CHECK (due_month BETWEEN 1 AND 12),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE control.repayment_instalments (
    tenant_id         uuid NOT NULL REFERENCES control.tenants (id),
    year              int NOT NULL,
    due_on            timestamptz NOT NULL,
    principal_fen     bigint NOT NULL,
    interest_fen      bigint NOT NULL,
    status            text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'issued', 'finalized', 'paid')),
    stripe_invoice_id text NOT NULL DEFAULT '',
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

-- Transactional outbox for every call to Stripe: written in the same transaction as the change
-- that causes it, sent by a worker with a deterministic idempotency key, retried with backoff.
CREATE TABLE control.billing_outbox (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL,
    idempotency_key text NOT NULL,
    tenant_id       uuid,
    payload         text NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    done_at         timestamptz
);
CREATE UNIQUE INDEX billing_outbox_key ON control.billing_outbox (idempotency_key);
CREATE INDEX billing_outbox_due ON control.billing_outbox (next_attempt_at, id) WHERE status = 'pending';

-- Stripe webhook events already processed (replays are acknowledged and ignored).
CREATE TABLE control.stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL
);

-- Stripe objects made once for the whole deployment (meters, products, prices), by our key.
CREATE TABLE control.stripe_objects (
    key        text PRIMARY KEY,
    stripe_id  text NOT NULL,
    created_at timestamptz NOT NULL
);

INSERT INTO control.billing_plans (code, name_zh, name_en, monthly_fee_fen, shared, modules, meters, updated_at) VALUES
('starter', '共享入门版', 'Shared starter', 0, true,
 '["cases","grids","catalog","calendar","public"]',
 '{"cases_created":{"included":2000,"unit_price_fen":50,"unit_size":1},"active_users":{"included":30,"unit_price_fen":2000,"unit_size":1},"api_requests":{"included":200000,"unit_price_fen":100,"unit_size":10000},"sensor_readings":{"included":100000,"unit_price_fen":100,"unit_size":10000},"storage_mb_days":{"included":153600,"unit_price_fen":1,"unit_size":100},"sms":{"included":500,"unit_price_fen":5,"unit_size":1}}',
 now()),
('standard', '标准版', 'Standard', 1500000, false,
 '["cases","grids","catalog","calendar","public","evaluation","analysis","monitoring","guidance","exchange"]',
 '{"cases_created":{"included":30000,"unit_price_fen":30,"unit_size":1},"active_users":{"included":300,"unit_price_fen":1500,"unit_size":1},"api_requests":{"included":5000000,"unit_price_fen":80,"unit_size":10000},"sensor_readings":{"included":5000000,"unit_price_fen":80,"unit_size":10000},"storage_mb_days":{"included":3072000,"unit_price_fen":1,"unit_size":200},"sms":{"included":10000,"unit_price_fen":4,"unit_size":1}}',
 now()),
('prefecture', '州级版', 'Prefecture', 3000000, false,
 '["cases","grids","catalog","calendar","public","evaluation","analysis","monitoring","guidance","exchange","prefecture_dashboard"]',
 '{"cases_created":{"included":60000,"unit_price_fen":30,"unit_size":1},"active_users":{"included":600,"unit_price_fen":1500,"unit_size":1},"api_requests":{"included":20000000,"unit_price_fen":60,"unit_size":10000},"sensor_readings":{"included":20000000,"unit_price_fen":60,"unit_size":10000},"storage_mb_days":{"included":15360000,"unit_price_fen":1,"unit_size":300},"sms":{"included":30000,"unit_price_fen":4,"unit_size":1}}',
 now());
