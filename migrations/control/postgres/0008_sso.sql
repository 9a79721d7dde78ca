-- Single sign-on with OpenID Connect (docs/identity.md). A tenant (or the operator, tenant_id
-- NULL) names its identity providers; the client secret of each is in the secret store (the
-- credential "sso_<key>"), never here.
CREATE TABLE control.sso_providers (
    id           uuid PRIMARY KEY,
    tenant_id    uuid REFERENCES control.tenants (id) ON DELETE CASCADE,
    key          text NOT NULL,
    display_name text NOT NULL,
    issuer       text NOT NULL,
    client_id    text NOT NULL,
    scopes       text NOT NULL DEFAULT 'openid email profile',
    claim        text NOT NULL DEFAULT 'email',
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sso_providers_tenant_key ON control.sso_providers (tenant_id, key) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX sso_providers_operator_key ON control.sso_providers (key) WHERE tenant_id IS NULL;

-- A tenant's sign-in rules: local passwords off (members must use a provider), and just-in-time
-- accounts (a stranger's first sign-in asks an admin for approval instead of being refused).
CREATE TABLE control.login_policies (
    tenant_id     uuid PRIMARY KEY REFERENCES control.tenants (id) ON DELETE CASCADE,
    passwords_off boolean NOT NULL DEFAULT false,
    jit_accounts  boolean NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL,
    updated_by    text NOT NULL DEFAULT ''
);

-- Which identity a provider's claim value (an employee number, a phone number) stands for.
CREATE TABLE control.sso_links (
    provider_id uuid NOT NULL REFERENCES control.sso_providers (id) ON DELETE CASCADE,
    value       text NOT NULL,
    identity_id uuid NOT NULL REFERENCES control.identities (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (provider_id, value)
);
CREATE INDEX sso_links_identity ON control.sso_links (identity_id);

-- Just-in-time accounts waiting for an admin: the identity has no role in the tenant until then.
CREATE TABLE control.sso_requests (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES control.tenants (id) ON DELETE CASCADE,
    provider_id  uuid NOT NULL REFERENCES control.sso_providers (id) ON DELETE CASCADE,
    identity_id  uuid NOT NULL REFERENCES control.identities (id) ON DELETE CASCADE,
    value        text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    new_identity boolean NOT NULL DEFAULT false,
    requested_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX sso_requests_identity ON control.sso_requests (tenant_id, identity_id);

-- Sign-ins in progress: state, nonce and PKCE verifier, used once, for ten minutes.
CREATE TABLE control.sso_flows (
    token_hash  text PRIMARY KEY,
    provider_id uuid NOT NULL REFERENCES control.sso_providers (id) ON DELETE CASCADE,
    state       text NOT NULL,
    nonce       text NOT NULL,
    verifier    text NOT NULL,
    next        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sso_flows_expires ON control.sso_flows (expires_at);

-- A session opened through a provider carries only the authority of that provider's tenant (or
-- of the operator), and the ID token for the provider's logout.
ALTER TABLE control.sessions ADD COLUMN sso_provider_id uuid REFERENCES control.sso_providers (id) ON DELETE CASCADE;
ALTER TABLE control.sessions ADD COLUMN sso_tenant_id uuid;
ALTER TABLE control.sessions ADD COLUMN id_token text NOT NULL DEFAULT '';
