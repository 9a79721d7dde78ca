-- The control plane and the shared reference data.
CREATE SCHEMA IF NOT EXISTS control;
CREATE SCHEMA IF NOT EXISTS ref;
-- Reference data is readable by every tenant role; the control schema by none of them.
REVOKE ALL ON SCHEMA control FROM PUBLIC;
GRANT USAGE ON SCHEMA ref TO PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA ref GRANT SELECT ON TABLES TO PUBLIC;

CREATE TABLE control.tenants (
    id              uuid PRIMARY KEY,
    slug            text NOT NULL,
    name_zh         text NOT NULL,
    name_en         text NOT NULL DEFAULT '',
    kind            text NOT NULL CHECK (kind IN ('prefecture', 'county', 'city', 'district')),
    admin_code      text NOT NULL,
    parent_id       uuid REFERENCES control.tenants (id),
    plan            text NOT NULL DEFAULT 'starter',
    status          text NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended', 'offboarding', 'deleted')),
    schema_name     text NOT NULL,
    db_role         text NOT NULL,
    first_admin_email text NOT NULL DEFAULT '',
    provision_step  text NOT NULL DEFAULT '',
    provision_error text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deleted_at      timestamptz
);
CREATE UNIQUE INDEX tenants_slug_live ON control.tenants (slug) WHERE status <> 'deleted';
CREATE UNIQUE INDEX tenants_admin_code_live ON control.tenants (admin_code) WHERE status <> 'deleted';
CREATE INDEX tenants_parent ON control.tenants (parent_id);

CREATE TABLE control.identities (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL DEFAULT '',
    operator_role text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    locale        text NOT NULL DEFAULT 'zh-CN',
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz
);
CREATE UNIQUE INDEX identities_email ON control.identities (lower(email));

CREATE TABLE control.memberships (
    identity_id uuid NOT NULL REFERENCES control.identities (id) ON DELETE CASCADE,
    tenant_id   uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    role        text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (identity_id, tenant_id, role)
);
CREATE INDEX memberships_tenant ON control.memberships (tenant_id);

CREATE TABLE control.invitations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    email       text NOT NULL,
    name        text NOT NULL DEFAULT '',
    role        text NOT NULL,
    token_hash  text NOT NULL UNIQUE,
    invited_by  uuid REFERENCES control.identities (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE UNIQUE INDEX invitations_open ON control.invitations (tenant_id, lower(email), role) WHERE accepted_at IS NULL;

CREATE TABLE control.sessions (
    token_hash   text PRIMARY KEY,
    identity_id  uuid NOT NULL REFERENCES control.identities (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    user_agent   text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_identity ON control.sessions (identity_id);

CREATE TABLE control.api_tokens (
    id           uuid PRIMARY KEY,
    identity_id  uuid NOT NULL REFERENCES control.identities (id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_identity ON control.api_tokens (identity_id);

CREATE TABLE control.audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor_id    uuid,
    actor_email text NOT NULL DEFAULT '',
    action      text NOT NULL,
    tenant_id   uuid,
    target      text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT '{}',
    request_id  text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_tenant ON control.audit_log (tenant_id, id);

-- The audit log is append-only: the database refuses to change or remove a row.
CREATE FUNCTION control.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON control.audit_log
    FOR EACH ROW EXECUTE FUNCTION control.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON control.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION control.audit_log_append_only();

-- GB/T 2260 administrative divisions known to the deployment (shared, read-only to tenants).
CREATE TABLE ref.admin_divisions (
    code        text PRIMARY KEY,
    name_zh     text NOT NULL,
    name_en     text NOT NULL DEFAULT '',
    level       text NOT NULL,
    parent_code text
);
