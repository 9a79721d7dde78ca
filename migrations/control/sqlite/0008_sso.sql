-- Single sign-on with OpenID Connect (docs/identity.md). A tenant (or the operator, tenant_id
-- NULL) names its identity providers; the client secret of each is in the secret store (the
-- credential "sso_<key>"), never here.
CREATE TABLE control.sso_providers (
    id           text PRIMARY KEY,
    tenant_id    text REFERENCES tenants (id) ON DELETE CASCADE,
    key          text NOT NULL,
    display_name text NOT NULL,
    issuer       text NOT NULL,
    client_id    text NOT NULL,
    scopes       text NOT NULL DEFAULT 'openid email profile',
    claim        text NOT NULL DEFAULT 'email',
    enabled      boolean NOT NULL DEFAULT 1,
    created_at   timestamp NOT NULL,
    updated_at   timestamp NOT NULL,
    updated_by   text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX control.sso_providers_tenant_key ON sso_providers (tenant_id, key) WHERE tenant_id IS NOT NULL;
CREATE UNIQUE INDEX control.sso_providers_operator_key ON sso_providers (key) WHERE tenant_id IS NULL;

-- A tenant's sign-in rules: local passwords off (members must use a provider), and just-in-time
-- accounts (a stranger's first sign-in asks an admin for approval instead of being refused).
CREATE TABLE control.login_policies (
    tenant_id     text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    passwords_off boolean NOT NULL DEFAULT 0,
    jit_accounts  boolean NOT NULL DEFAULT 0,
    updated_at    timestamp NOT NULL,
    updated_by    text NOT NULL DEFAULT ''
);

-- Which identity a provider's claim value (an employee number, a phone number) stands for.
CREATE TABLE control.sso_links (
    provider_id text NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    value       text NOT NULL,
    identity_id text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    created_at  timestamp NOT NULL,
    PRIMARY KEY (provider_id, value)
);
CREATE INDEX control.sso_links_identity ON sso_links (identity_id);

-- Just-in-time accounts waiting for an admin: the identity has no role in the tenant until then.
CREATE TABLE control.sso_requests (
    id           text PRIMARY KEY,
    tenant_id    text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_id  text NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    identity_id  text NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    value        text NOT NULL,
    subject      text NOT NULL,
    email        text NOT NULL DEFAULT '',
    name         text NOT NULL DEFAULT '',
    new_identity boolean NOT NULL DEFAULT 0,
    requested_at timestamp NOT NULL,
    last_seen_at timestamp NOT NULL
);
CREATE UNIQUE INDEX control.sso_requests_identity ON sso_requests (tenant_id, identity_id);

-- Sign-ins in progress: state, nonce and PKCE verifier, used once, for ten minutes.
CREATE TABLE control.sso_flows (
    token_hash  text PRIMARY KEY,
    provider_id text NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    state       text NOT NULL,
    nonce       text NOT NULL,
    verifier    text NOT NULL,
    next        text NOT NULL DEFAULT '',
    created_at  timestamp NOT NULL,
    expires_at  timestamp NOT NULL
);
CREATE INDEX control.sso_flows_expires ON sso_flows (expires_at);

-- A session opened through a provider carries only the authority of that provider's tenant (or
-- of the operator), and the ID token for the provider's logout.
ALTER TABLE control.sessions ADD COLUMN sso_provider_id text REFERENCES sso_providers (id) ON DELETE CASCADE;
ALTER TABLE control.sessions ADD COLUMN sso_tenant_id text;
ALTER TABLE control.sessions ADD COLUMN id_token text NOT NULL DEFAULT '';
