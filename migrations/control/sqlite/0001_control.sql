-- The control plane and the shared reference data. On SQLite, control.db and ref.db are attached
-- to every connection as the schemas "control" and "ref", so the SQL reads as on PostgreSQL.
CREATE TABLE control.tenants (
    id              text PRIMARY KEY,
    slug            text NOT NULL,
    name_zh         text NOT NULL,
    name_en         text NOT NULL DEFAULT '',
    kind            text NOT NULL CHECK (kind IN ('prefecture', 'county', 'city', 'district')),
    admin_code      text NOT NULL,
    parent_id       text REFERENCES tenants (id),
    plan            text NOT NULL DEFAULT 'starter',
    status          text NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended', 'offboarding', 'deleted')),
    schema_name     text NOT NULL,
    db_role         text NOT NULL,
    first_admin_email text NOT NULL DEFAULT '',
    provision_step  text NOT NULL DEFAULT '',
    provision_error text NOT NULL DEFAULT '',
    created_at      timestamp NOT NULL,
    updated_at      timestamp NOT NULL,
    deleted_at      timestamp
);
CREATE UNIQUE INDEX control.tenants_slug_live ON tenants (slug) WHERE status <> 'deleted';
CREATE UNIQUE INDEX control.tenants_admin_code_live ON tenants (admin_code) WHERE status <> 'deleted';
CREATE INDEX control.tenants_parent ON tenants (parent_id);

CREATE TABLE control.identities (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL DEFAULT '',
    operator_role text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    locale        text NOT NULL DEFAULT 'zh-CN',
    created_at    timestamp NOT NULL,
    last_login_at timestamp
);
CREATE UNIQUE INDEX control.identities_email ON identities (lower(email));

CREATE TABLE control.memberships (
    identity_id text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role        text NOT NULL,
    created_at  timestamp NOT NULL,
    PRIMARY KEY (identity_id, tenant_id, role)
);
CREATE INDEX control.memberships_tenant ON memberships (tenant_id);

CREATE TABLE control.invitations (
    id          text PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email       text NOT NULL,
    name        text NOT NULL DEFAULT '',
    role        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    invited_by  text REFERENCES identities (id) ON DELETE SET NULL,
    created_at  timestamp NOT NULL,
    expires_at  timestamp NOT NULL,
    accepted_at timestamp
);
CREATE UNIQUE INDEX control.invitations_open ON invitations (tenant_id, lower(email), role) WHERE accepted_at IS NULL;

CREATE TABLE control.sessions (
    token_hash   text PRIMARY KEY,
    identity_id  text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    created_at   timestamp NOT NULL,
    expires_at   timestamp NOT NULL,
    last_seen_at timestamp NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX control.sessions_identity ON sessions (identity_id);

CREATE TABLE control.api_tokens (
    id           text PRIMARY KEY,
    identity_id  text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    created_at   timestamp NOT NULL,
    expires_at   timestamp,
    last_used_at timestamp,
    revoked_at   timestamp
);
CREATE INDEX control.api_tokens_identity ON api_tokens (identity_id);

CREATE TABLE control.audit_log (
    id          integer PRIMARY KEY AUTOINCREMENT,
    at          timestamp NOT NULL,
    actor_id    text,
    actor_email text NOT NULL DEFAULT '',
    action      text NOT NULL,
    tenant_id   text,
    target      text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '{}',
    request_id  text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT ''
);
CREATE INDEX control.audit_log_tenant ON audit_log (tenant_id, id);

-- The audit log is append-only: the database refuses to change or remove a row.
CREATE TRIGGER control.audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER control.audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE ref.admin_divisions (
    code        text PRIMARY KEY,
    name_zh     text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    level       text NOT NULL,
    parent_code text
);
