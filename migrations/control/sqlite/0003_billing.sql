-- Billing: plans and entitlements, usage and its roll-ups, the advance-funding ledger, repayment
-- schedules, and the Stripe outbox and webhook log. All of it is control-plane data: the operator
-- bills tenants, so nothing here lives in a tenant schema. Amounts are int64 fen (CNY).

CREATE TABLE control.billing_plans (
    code           text PRIMARY KEY,
    name_zh        text NOT NULL,
    name_en        text NOT NULL DEFAULT '',
    monthly_fee_fen bigint NOT NULL DEFAULT 0 CHECK (monthly_fee_fen >= 0),
    shared         integer NOT NULL DEFAULT false,
    modules        text NOT NULL DEFAULT '[]',   -- JSON array of module names switched on
    meters         text NOT NULL DEFAULT '{}',   -- JSON object meter -> {included, unit_price_fen, unit_size}
    updated_at     timestamp NOT NULL
);

-- Per-tenant billing state: module switches that override the plan, and the Stripe objects.
CREATE TABLE control.billing_accounts (
    tenant_id          text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    modules            text NOT NULL DEFAULT '{}', -- JSON object module -> bool, overriding the plan
    stripe_customer_id text NOT NULL DEFAULT '',
    stripe_subscription_id text NOT NULL DEFAULT '',
    updated_at         timestamp NOT NULL
);
CREATE INDEX control.billing_accounts_customer ON billing_accounts (stripe_customer_id);

-- Raw usage events. A repeated idempotency key is counted once (ON CONFLICT DO NOTHING); the
-- roll-ups are updated in the same transaction from the rows actually inserted.
CREATE TABLE control.usage_events (
    id              integer PRIMARY KEY AUTOINCREMENT,
    tenant_id       text NOT NULL,
    meter           text NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity >= 0),
    idempotency_key text NOT NULL,
    occurred_at     timestamp NOT NULL
);
CREATE UNIQUE INDEX control.usage_events_key ON usage_events (idempotency_key);

CREATE TABLE control.usage_rollups (
    tenant_id    text NOT NULL,
    meter        text NOT NULL,
    period       text NOT NULL CHECK (period IN ('hour', 'day', 'month')),
    period_start timestamp NOT NULL,
    quantity     bigint NOT NULL,
    events       bigint NOT NULL,
    PRIMARY KEY (tenant_id, meter, period, period_start)
);

-- The advance-funding ledger: balanced journals of postings (debit positive, credit negative).
CREATE TABLE control.ledger_journals (
    id              integer PRIMARY KEY AUTOINCREMENT,
    tenant_id       text NOT NULL REFERENCES tenants (id),
    kind            text NOT NULL CHECK (kind IN ('advance', 'charge', 'repayment', 'adjustment')),
    category        text NOT NULL DEFAULT '',
    amount_fen      bigint NOT NULL,
    memo            text NOT NULL DEFAULT '',
    reference       text NOT NULL DEFAULT '',
    source          text NOT NULL DEFAULT 'api',
    idempotency_key text,
    occurred_at     timestamp NOT NULL,
    due_on          timestamp NOT NULL,
    posted_at       timestamp NOT NULL,
    posted_by       text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX control.ledger_journals_key ON ledger_journals (idempotency_key);
CREATE INDEX control.ledger_journals_tenant ON ledger_journals (tenant_id, occurred_at, id);

CREATE TABLE control.ledger_postings (
    id         integer PRIMARY KEY AUTOINCREMENT,
    journal_id bigint NOT NULL REFERENCES ledger_journals (id),
    tenant_id  text NOT NULL,
    account    text NOT NULL CHECK (account IN ('receivable', 'cash', 'revenue', 'credit', 'adjustments', 'interest')),
    amount_fen bigint NOT NULL
);
CREATE INDEX control.ledger_postings_journal ON ledger_postings (journal_id);
CREATE INDEX control.ledger_postings_tenant ON ledger_postings (tenant_id, account);

-- The ledger is append-only: corrections are new journals. (That every journal balances is
-- checked by the code that writes it; PostgreSQL also checks it at commit.)
CREATE TRIGGER control.ledger_journals_no_update BEFORE UPDATE ON ledger_journals
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER control.ledger_journals_no_delete BEFORE DELETE ON ledger_journals
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER control.ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER control.ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

-- Repayment schedule: yearly instalments over N years at an optional agreed simple rate.
CREATE TABLE control.repayment_schedules (
    tenant_id     text PRIMARY KEY REFERENCES tenants (id),
    principal_fen bigint NOT NULL CHECK (principal_fen > 0),
    years         int NOT NULL CHECK (years BETWEEN 1 AND 30),
    start_year    int NOT NULL,
    rate_bp       int NOT NULL DEFAULT 0 CHECK (rate_bp BETWEEN 0 AND 2000),
    due_month     int NOT NULL DEFAULT 12 CHECK (due_month BETWEEN 1 AND 12),
    created_at    timestamp NOT NULL,
    updated_at    timestamp NOT NULL
);

CREATE TABLE control.repayment_instalments (
    tenant_id         text NOT NULL REFERENCES tenants (id),
    year              int NOT NULL,
    due_on            timestamp NOT NULL,
    principal_fen     bigint NOT NULL,
    interest_fen      bigint NOT NULL,
    status            text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'issued', 'finalized', 'paid')),
    stripe_invoice_id text NOT NULL DEFAULT '',
    updated_at        timestamp NOT NULL,
    PRIMARY KEY (tenant_id, year)
);

-- Transactional outbox for every call to Stripe: written in the same transaction as the change
-- that causes it, sent by a worker with a deterministic idempotency key, retried with backoff.
CREATE TABLE control.billing_outbox (
    id              integer PRIMARY KEY AUTOINCREMENT,
    kind            text NOT NULL,
    idempotency_key text NOT NULL,
    tenant_id       text,
    payload         text NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamp NOT NULL,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamp NOT NULL,
    done_at         timestamp
);
CREATE UNIQUE INDEX control.billing_outbox_key ON billing_outbox (idempotency_key);
CREATE INDEX control.billing_outbox_due ON billing_outbox (next_attempt_at, id) WHERE status = 'pending';

-- Stripe webhook events already processed (replays are acknowledged and ignored).
CREATE TABLE control.stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamp NOT NULL
);

-- Stripe objects made once for the whole deployment (meters, products, prices), by our key.
CREATE TABLE control.stripe_objects (
    key        text PRIMARY KEY,
    stripe_id  text NOT NULL,
    created_at timestamp NOT NULL
);

INSERT INTO control.billing_plans (code, name_zh, name_en, monthly_fee_fen, shared, modules, meters, updated_at) VALUES
('starter', '共享入门版', 'Shared starter', 0, 1,
 '["cases","grids","catalog","calendar","public"]',
 '{"cases_created":{"included":2000,"unit_price_fen":50,"unit_size":1},"active_users":{"included":30,"unit_price_fen":2000,"unit_size":1},"api_requests":{"included":200000,"unit_price_fen":100,"unit_size":10000},"sensor_readings":{"included":100000,"unit_price_fen":100,"unit_size":10000},"storage_mb_days":{"included":153600,"unit_price_fen":1,"unit_size":100},"sms":{"included":500,"unit_price_fen":5,"unit_size":1}}',
 CURRENT_TIMESTAMP),
('standard', '标准版', 'Standard', 1500000, 0,
 '["cases","grids","catalog","calendar","public","evaluation","analysis","monitoring","guidance","exchange"]',
 '{"cases_created":{"included":30000,"unit_price_fen":30,"unit_size":1},"active_users":{"included":300,"unit_price_fen":1500,"unit_size":1},"api_requests":{"included":5000000,"unit_price_fen":80,"unit_size":10000},"sensor_readings":{"included":5000000,"unit_price_fen":80,"unit_size":10000},"storage_mb_days":{"included":3072000,"unit_price_fen":1,"unit_size":200},"sms":{"included":10000,"unit_price_fen":4,"unit_size":1}}',
 CURRENT_TIMESTAMP),
('prefecture', '州级版', 'Prefecture', 3000000, 0,
 '["cases","grids","catalog","calendar","public","evaluation","analysis","monitoring","guidance","exchange","prefecture_dashboard"]',
 '{"cases_created":{"included":60000,"unit_price_fen":30,"unit_size":1},"active_users":{"included":600,"unit_price_fen":1500,"unit_size":1},"api_requests":{"included":20000000,"unit_price_fen":60,"unit_size":10000},"sensor_readings":{"included":20000000,"unit_price_fen":60,"unit_size":10000},"storage_mb_days":{"included":15360000,"unit_price_fen":1,"unit_size":300},"sms":{"included":30000,"unit_price_fen":4,"unit_size":1}}',
 CURRENT_TIMESTAMP);
