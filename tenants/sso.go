package tenants

// Single sign-on's share of the control plane: the identity providers of a tenant (or of the
// operator), a tenant's sign-in rules (local passwords off, just-in-time accounts), the links
// from a provider's claim values to identities, the just-in-time accounts waiting for an admin,
// the sign-ins in progress, and the sign-in itself, which maps a verified claim to an identity
// and opens a session bound to the provider's tenant. The OpenID Connect protocol is
// tenants/sso's; docs/identity.md tells an admin how to set it up.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// SSOProvider is an OpenID Connect provider that staff of a tenant (TenantID) or of the operator
// (TenantID nil) sign in with. Its client secret is in the secret store (SSOSecretName), never
// here.
type SSOProvider struct {
	bun.BaseModel `bun:"table:control.sso_providers,alias:sp"`

	ID          uuid.UUID  `bun:"id,pk,type:uuid" json:"id"`
	TenantID    *uuid.UUID `bun:"tenant_id,type:uuid" json:"tenant_id,omitempty"`
	Key         string     `bun:"key" json:"key"`
	DisplayName string     `bun:"display_name" json:"display_name"`
	Issuer      string     `bun:"issuer" json:"issuer"`
	ClientID    string     `bun:"client_id" json:"client_id"`
	// Scopes are asked for at sign-in, space-separated; openid is always among them.
	Scopes string `bun:"scopes" json:"scopes"`
	// Claim names the ID token (or userinfo) claim matched to staff: email, phone_number, or
	// any other claim such as an employee number.
	Claim     string    `bun:"claim" json:"claim"`
	Enabled   bool      `bun:"enabled" json:"enabled"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at" json:"updated_at"`
	UpdatedBy string    `bun:"updated_by" json:"updated_by"`
}

// SSOSecretName is the secret store's name of a provider's client secret: "sso_<key>", under the
// provider's tenant (SSOSecretOwner for the operator's).
func SSOSecretName(key string) string { return "sso_" + key }

// SSOSecretOwner is the tenant id under which the secret store keeps the client secrets of the
// operator's providers, which belong to no tenant: the all-ones UUID, which no tenant has.
var SSOSecretOwner = uuid.Max

// SecretOwner is the secret store's tenant of p's client secret.
func (p *SSOProvider) SecretOwner() uuid.UUID {
	if p.TenantID == nil {
		return SSOSecretOwner
	}
	return *p.TenantID
}

// The claims a provider may match staff by, besides any other claim name.
const (
	ClaimEmail = "email"
	ClaimPhone = "phone_number"
)

// SSOProviderInput is what creating or changing a provider takes.
type SSOProviderInput struct {
	Key         string `json:"key"`
	DisplayName string `json:"display_name"`
	Issuer      string `json:"issuer"`
	ClientID    string `json:"client_id"`
	Scopes      string `json:"scopes"`
	Claim       string `json:"claim"`
	Enabled     *bool  `json:"enabled"`
}

var (
	ssoKeyRe   = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}$`)
	ssoClaimRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_:.-]{0,63}$`)
	ssoScopeRe = regexp.MustCompile(`^[\x21\x23-\x5b\x5d-\x7e]{1,64}$`)
	// ssoClientIDRe: printable ASCII without spaces, as RFC 6749 has client ids in practice.
	ssoClientIDRe = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`)
)

// ValidSSOKey reports whether key may name a provider (in URLs and the secret's name).
func ValidSSOKey(key string) bool { return ssoKeyRe.MatchString(key) }

// normalize checks in and returns its fields cleaned: trimmed, openid among the scopes.
func (in SSOProviderInput) normalize() (SSOProviderInput, error) {
	in.Key = strings.TrimSpace(in.Key)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	in.Issuer = strings.TrimSuffix(strings.TrimSpace(in.Issuer), "/")
	in.ClientID = strings.TrimSpace(in.ClientID)
	in.Claim = strings.TrimSpace(in.Claim)
	if !ValidSSOKey(in.Key) {
		return in, errs.Field("key", msgSSOKeyNotValid, textutil.Truncate(in.Key, 40))
	}
	if n := utf8.RuneCountInString(in.DisplayName); n == 0 || n > 60 || !printable(in.DisplayName) {
		return in, errs.Field("display_name", msgSSODisplayName)
	}
	if err := checkIssuer(in.Issuer); err != nil {
		return in, err
	}
	if !ssoClientIDRe.MatchString(in.ClientID) {
		return in, errs.Field("client_id", msgSSOClientID)
	}
	if in.Claim == "" {
		in.Claim = ClaimEmail
	}
	if !ssoClaimRe.MatchString(in.Claim) {
		return in, errs.Field("claim", msgSSOClaim, textutil.Truncate(in.Claim, 64))
	}
	scopes := []string{"openid"}
	for s := range strings.FieldsSeq(in.Scopes) {
		if !ssoScopeRe.MatchString(s) {
			return in, errs.Field("scopes", msgSSOScopes, textutil.Truncate(s, 64))
		}
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	if len(scopes) == 1 {
		scopes = append(scopes, "email", "profile")
		if in.Claim == ClaimPhone {
			scopes[1] = "phone"
		}
	}
	if len(scopes) > 20 {
		return in, errs.Field("scopes", msgSSOScopes, textutil.Truncate(in.Scopes, 64))
	}
	in.Scopes = strings.Join(scopes, " ")
	return in, nil
}

// checkIssuer admits an https URL without query or fragment; plain http only on the loopback
// interface (a provider on the same machine, the tests).
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || len(issuer) > 300 || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || !printable(issuer) {
		return errs.Field("issuer", msgSSOIssuer, textutil.Truncate(issuer, 80))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
			return errs.Field("issuer", msgSSOIssuerHTTPS, textutil.Truncate(issuer, 80))
		}
	default:
		return errs.Field("issuer", msgSSOIssuer, textutil.Truncate(issuer, 80))
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func realmWhere(q *bun.SelectQuery, tenant *uuid.UUID) *bun.SelectQuery {
	if tenant == nil {
		return q.Where("sp.tenant_id IS NULL")
	}
	return q.Where("sp.tenant_id = ?", *tenant)
}

// FindSSOProviders lists the providers of tenant (nil: the operator's), by display name.
func (s *Store) FindSSOProviders(ctx context.Context, tenant *uuid.UUID) ([]*SSOProvider, error) {
	out := []*SSOProvider{}
	err := realmWhere(s.reader.NewSelect().Model(&out), tenant).OrderExpr("sp.display_name, sp.key").Scan(ctx)
	return out, dbx.Translate(err)
}

// FindSSOProvider returns tenant's provider key (nil tenant: the operator's).
func (s *Store) FindSSOProvider(ctx context.Context, tenant *uuid.UUID, key string) (*SSOProvider, error) {
	return findSSOProvider(ctx, s.reader, tenant, key)
}

func findSSOProvider(ctx context.Context, db bun.IDB, tenant *uuid.UUID, key string) (*SSOProvider, error) {
	if !ValidSSOKey(key) {
		return nil, errs.E(errs.NotFound, msgSSONoProvider, textutil.Truncate(key, 40))
	}
	p := new(SSOProvider)
	if err := realmWhere(db.NewSelect().Model(p), tenant).Where("sp.key = ?", key).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return nil, errs.E(errs.NotFound, msgSSONoProvider, key)
		}
		return nil, dbx.Translate(err)
	}
	return p, nil
}

// PutSSOProvider creates tenant's provider in.Key, or changes it; created says which. by is who
// (an email).
func (s *Store) PutSSOProvider(ctx context.Context, tenant *uuid.UUID, in SSOProviderInput, by string) (p *SSOProvider, created bool, err error) {
	if in, err = in.normalize(); err != nil {
		return nil, false, err
	}
	err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		now := s.now()
		p, err = findSSOProvider(ctx, tx, tenant, in.Key)
		switch {
		case err == nil:
		case isNotFound(err):
			created = true
			p = &SSOProvider{ID: uuid.New(), TenantID: tenant, Key: in.Key, Enabled: true, CreatedAt: now}
		default:
			return err
		}
		if !created && in.Enabled != nil && !*in.Enabled && p.Enabled {
			if err := s.keepOneProvider(ctx, tx, p); err != nil {
				return err
			}
		}
		p.DisplayName, p.Issuer, p.ClientID, p.Scopes, p.Claim = in.DisplayName, in.Issuer, in.ClientID, in.Scopes, in.Claim
		if in.Enabled != nil {
			p.Enabled = *in.Enabled
		}
		p.UpdatedAt, p.UpdatedBy = now, textutil.Truncate(by, 200)
		if created {
			_, err = tx.NewInsert().Model(p).Exec(ctx)
		} else {
			_, err = tx.NewUpdate().Model(p).WherePK().Exec(ctx)
		}
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, "sso.provider.put", tenant, p.Key, map[string]any{
			"issuer": p.Issuer, "client_id": p.ClientID, "scopes": p.Scopes, "claim": p.Claim, "enabled": p.Enabled, "created": created})
	})
	if err != nil {
		return nil, false, err
	}
	return p, created, nil
}

// DeleteSSOProvider removes tenant's provider key, its links and the sessions opened through it.
// The last enabled provider of a tenant whose passwords are off stays: nobody could sign in.
func (s *Store) DeleteSSOProvider(ctx context.Context, tenant *uuid.UUID, key string) (*SSOProvider, error) {
	var p *SSOProvider
	var ended []string // the hashes of the sessions opened through it
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if p, err = findSSOProvider(ctx, tx, tenant, key); err != nil {
			return err
		}
		if p.Enabled {
			if err := s.keepOneProvider(ctx, tx, p); err != nil {
				return err
			}
		}
		// Sessions, links, flows and requests go with it (ON DELETE CASCADE); the sessions are
		// deleted explicitly too, for SQLite connections without foreign keys enforced.
		if err := tx.NewSelect().Model((*Session)(nil)).Column("token_hash").Where("sso_provider_id = ?", p.ID).Scan(ctx, &ended); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("sso_provider_id = ?", p.ID).Exec(ctx); err != nil {
			return err
		}
		for _, table := range []string{"control.sso_links", "control.sso_flows", "control.sso_requests"} {
			if _, err := tx.NewDelete().TableExpr(table).Where("provider_id = ?", p.ID).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.NewDelete().Model(p).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "sso.provider.delete", tenant, p.Key, map[string]string{"issuer": p.Issuer})
	})
	if err != nil {
		return nil, err
	}
	for _, hash := range ended { // after the commit, so that no lookup re-caches them
		s.invalidate(ctx, invalidSession, hash)
	}
	return p, nil
}

// keepOneProvider refuses to take away p when it is the last enabled provider of a tenant whose
// passwords are off.
func (s *Store) keepOneProvider(ctx context.Context, db bun.IDB, p *SSOProvider) error {
	if p.TenantID == nil {
		return nil
	}
	pol, err := findLoginPolicy(ctx, db, *p.TenantID)
	if err != nil || !pol.PasswordsOff {
		return err
	}
	n, err := db.NewSelect().Model((*SSOProvider)(nil)).Where("sp.tenant_id = ? AND sp.enabled AND sp.id <> ?", *p.TenantID, p.ID).Count(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		return errs.E(errs.Conflict, msgSSOLastProvider, p.DisplayName)
	}
	return nil
}

// LoginPolicy is a tenant's sign-in rules.
type LoginPolicy struct {
	bun.BaseModel `bun:"table:control.login_policies,alias:lp"`

	TenantID uuid.UUID `bun:"tenant_id,pk,type:uuid" json:"tenant_id"`
	// PasswordsOff refuses local passwords to the tenant's members: they sign in through one of
	// the tenant's providers. Operators keep their passwords (the break-glass account).
	PasswordsOff bool `bun:"passwords_off" json:"passwords_off"`
	// JITAccounts turns the sign-in of someone unknown into a request an admin approves (with
	// roles), instead of a refusal.
	JITAccounts bool      `bun:"jit_accounts" json:"jit_accounts"`
	UpdatedAt   time.Time `bun:"updated_at" json:"updated_at"`
	UpdatedBy   string    `bun:"updated_by" json:"updated_by"`
}

// FindLoginPolicy returns tenant's sign-in rules (passwords on, no just-in-time accounts until
// an admin sets them).
func (s *Store) FindLoginPolicy(ctx context.Context, tenant uuid.UUID) (*LoginPolicy, error) {
	return findLoginPolicy(ctx, s.reader, tenant)
}

func findLoginPolicy(ctx context.Context, db bun.IDB, tenant uuid.UUID) (*LoginPolicy, error) {
	p := &LoginPolicy{TenantID: tenant}
	if err := db.NewSelect().Model(p).Where("lp.tenant_id = ?", tenant).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return &LoginPolicy{TenantID: tenant}, nil
		}
		return nil, dbx.Translate(err)
	}
	return p, nil
}

// PutLoginPolicy sets tenant's sign-in rules. Passwords can be switched off only while the
// tenant has an enabled provider.
func (s *Store) PutLoginPolicy(ctx context.Context, tenant uuid.UUID, passwordsOff, jit bool, by string) (*LoginPolicy, error) {
	p := &LoginPolicy{TenantID: tenant, PasswordsOff: passwordsOff, JITAccounts: jit, UpdatedAt: s.now(), UpdatedBy: textutil.Truncate(by, 200)}
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if passwordsOff {
			n, err := tx.NewSelect().Model((*SSOProvider)(nil)).Where("sp.tenant_id = ? AND sp.enabled", tenant).Count(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return errs.Field("passwords_off", msgSSOPasswordsOffNoProvider)
			}
		}
		if _, err := tx.NewInsert().Model(p).On("CONFLICT (tenant_id) DO UPDATE").
			Set("passwords_off = EXCLUDED.passwords_off, jit_accounts = EXCLUDED.jit_accounts, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by").
			Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "sso.policy", &tenant, "", map[string]bool{"passwords_off": passwordsOff, "jit_accounts": jit})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// passwordsAllowed refuses a password sign-in to a member of a tenant whose passwords are off,
// unless the identity holds an operator role (the operator's break-glass admin).
func (s *Store) passwordsAllowed(ctx context.Context, id *Identity) error {
	if id.OperatorRole != "" {
		return nil
	}
	var units []struct {
		Slug   string `bun:"slug"`
		NameZH string `bun:"name_zh"`
	}
	err := s.reader.NewSelect().TableExpr("control.memberships AS m").
		Join("JOIN control.login_policies AS lp ON lp.tenant_id = m.tenant_id").
		Join("JOIN control.tenants AS t ON t.id = m.tenant_id").
		ColumnExpr("DISTINCT t.slug, t.name_zh").
		Where("m.identity_id = ? AND lp.passwords_off AND t.status <> ?", id.ID, StatusDeleted).
		OrderExpr("t.slug").Scan(ctx, &units)
	if err != nil {
		return dbx.Translate(err)
	}
	if len(units) == 0 {
		return nil
	}
	e := &PasswordsOffError{}
	var names []string
	for _, u := range units {
		e.Slugs, names = append(e.Slugs, u.Slug), append(names, u.NameZH)
	}
	e.Err = errs.E(errs.Forbidden, msgSSOPasswordsOff, strings.Join(names, "、"))
	return e
}

// PasswordsOffError refuses a password sign-in (Forbidden) to a member of units that switched
// passwords off; Slugs name them, so that the login page can offer their providers instead.
type PasswordsOffError struct {
	Slugs []string
	Err   error
}

func (e *PasswordsOffError) Error() string { return e.Err.Error() }
func (e *PasswordsOffError) Unwrap() error { return e.Err }

// SSOLink says that a provider's claim value (an employee number, a phone number) is an identity.
type SSOLink struct {
	bun.BaseModel `bun:"table:control.sso_links,alias:sl"`

	ProviderID uuid.UUID `bun:"provider_id,pk,type:uuid" json:"provider_id"`
	Value      string    `bun:"value,pk" json:"value"`
	IdentityID uuid.UUID `bun:"identity_id,type:uuid" json:"identity_id"`
	CreatedAt  time.Time `bun:"created_at" json:"created_at"`
	// Email is the identity's, for listings.
	Email string `bun:"email,scanonly" json:"email"`
}

// NormalizeClaim cleans a claim value for matching: emails compare in lower case, and spaces
// around any value are dropped. It refuses values no identity could match (empty, too long, with
// control characters or NUL bytes).
func NormalizeClaim(claim, value string) (string, error) {
	value = strings.TrimSpace(value)
	if claim == ClaimEmail {
		value = strings.ToLower(value)
	}
	if value == "" || len(value) > 254 || !printable(value) {
		return "", errs.Field("value", msgSSOClaimValue, claim)
	}
	return value, nil
}

// PutSSOLink links value of tenant's provider key to identity, who must be a member of the tenant
// (an operator, for the operator's providers).
func (s *Store) PutSSOLink(ctx context.Context, tenant *uuid.UUID, key, value string, identity uuid.UUID) (*SSOLink, error) {
	var l *SSOLink
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		p, err := findSSOProvider(ctx, tx, tenant, key)
		if err != nil {
			return err
		}
		if value, err = NormalizeClaim(p.Claim, value); err != nil {
			return err
		}
		q := tx.NewSelect().Model((*Identity)(nil)).Where("id = ?", identity)
		if tenant == nil {
			q = q.Where("operator_role <> ''")
		} else {
			q = q.Where("EXISTS (SELECT 1 FROM control.memberships AS m WHERE m.identity_id = identity.id AND m.tenant_id = ?)", *tenant)
		}
		if n, err := q.Count(ctx); err != nil {
			return err
		} else if n == 0 {
			return errs.Field("identity_id", msgSSOLinkNotMember)
		}
		l = &SSOLink{ProviderID: p.ID, Value: value, IdentityID: identity, CreatedAt: s.now()}
		if _, err := tx.NewInsert().Model(l).On("CONFLICT (provider_id, value) DO UPDATE").
			Set("identity_id = EXCLUDED.identity_id, created_at = EXCLUDED.created_at").Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "sso.link.put", tenant, key, map[string]string{"value": value, "identity_id": identity.String()})
	})
	return l, err
}

// DeleteSSOLink removes the link of value at tenant's provider key.
func (s *Store) DeleteSSOLink(ctx context.Context, tenant *uuid.UUID, key, value string) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		p, err := findSSOProvider(ctx, tx, tenant, key)
		if err != nil {
			return err
		}
		value, _ = NormalizeClaim(p.Claim, value)
		res, err := tx.NewDelete().Model((*SSOLink)(nil)).Where("provider_id = ? AND value = ?", p.ID, value).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgSSONoLink, textutil.Truncate(value, 60))
		}
		return s.Audit(ctx, tx, "sso.link.delete", tenant, key, map[string]string{"value": value})
	})
}

// FindSSOLinks lists the links of tenant's provider key, by value.
func (s *Store) FindSSOLinks(ctx context.Context, tenant *uuid.UUID, key string) ([]*SSOLink, error) {
	p, err := s.FindSSOProvider(ctx, tenant, key)
	if err != nil {
		return nil, err
	}
	out := []*SSOLink{}
	err = s.reader.NewSelect().Model(&out).ColumnExpr("sl.*, i.email").
		Join("JOIN control.identities AS i ON i.id = sl.identity_id").
		Where("sl.provider_id = ?", p.ID).OrderExpr("sl.value").Scan(ctx)
	return out, dbx.Translate(err)
}

// SSORequest is a just-in-time account waiting for a tenant admin: someone the tenant's provider
// vouched for, unknown to the tenant. Until an admin approves it with roles, the identity has no
// role there and cannot sign in.
type SSORequest struct {
	bun.BaseModel `bun:"table:control.sso_requests,alias:sr"`

	ID          uuid.UUID `bun:"id,pk,type:uuid" json:"id"`
	TenantID    uuid.UUID `bun:"tenant_id,type:uuid" json:"tenant_id"`
	ProviderID  uuid.UUID `bun:"provider_id,type:uuid" json:"provider_id"`
	IdentityID  uuid.UUID `bun:"identity_id,type:uuid" json:"identity_id"`
	Value       string    `bun:"value" json:"value"`
	Subject     string    `bun:"subject" json:"subject"`
	Email       string    `bun:"email" json:"email"`
	Name        string    `bun:"name" json:"name"`
	NewIdentity bool      `bun:"new_identity" json:"new_identity"`
	RequestedAt time.Time `bun:"requested_at" json:"requested_at"`
	LastSeenAt  time.Time `bun:"last_seen_at" json:"last_seen_at"`
	// Provider is the provider's display name, for listings.
	Provider string `bun:"provider,scanonly" json:"provider"`
}

// FindSSORequests lists tenant's waiting just-in-time accounts, oldest first.
func (s *Store) FindSSORequests(ctx context.Context, tenant uuid.UUID) ([]*SSORequest, error) {
	out := []*SSORequest{}
	err := s.reader.NewSelect().Model(&out).ColumnExpr("sr.*, sp.display_name AS provider").
		Join("JOIN control.sso_providers AS sp ON sp.id = sr.provider_id").
		Where("sr.tenant_id = ?", tenant).OrderExpr("sr.requested_at, sr.id").Scan(ctx)
	return out, dbx.Translate(err)
}

// ApproveSSORequest gives the waiting account id roles in t (at least one): the identity becomes
// a member, is enabled if the request made it, and its claim value is linked to it.
func (s *Store) ApproveSSORequest(ctx context.Context, t *Tenant, id uuid.UUID, roles []Role) (*SSORequest, error) {
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	if len(roles) == 0 {
		return nil, errs.Field("roles", msgSSOApproveRoles)
	}
	for _, r := range roles {
		if err := ValidTenantRole(r, t.Kind); err != nil {
			return nil, err
		}
	}
	r := new(SSORequest)
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(r).Where("sr.id = ? AND sr.tenant_id = ?", id, t.ID).Scan(ctx); err != nil {
			if isNotFound(dbx.Translate(err)) {
				return errs.E(errs.NotFound, msgSSONoRequest, id)
			}
			return err
		}
		now := s.now()
		for _, role := range roles {
			if _, err := tx.NewInsert().Model(&Membership{IdentityID: r.IdentityID, TenantID: t.ID, Role: role, CreatedAt: now}).
				On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		if r.NewIdentity {
			if _, err := tx.NewUpdate().Model((*Identity)(nil)).Set("status = 'active'").Where("id = ?", r.IdentityID).Exec(ctx); err != nil {
				return err
			}
		}
		if _, err := tx.NewInsert().Model(&SSOLink{ProviderID: r.ProviderID, Value: r.Value, IdentityID: r.IdentityID, CreatedAt: now}).
			On("CONFLICT (provider_id, value) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(r).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "sso.request.approve", &t.ID, r.IdentityID.String(), map[string]any{"roles": roles, "value": r.Value, "email": r.Email})
	})
	if err != nil {
		return nil, err
	}
	s.invalidate(ctx, invalidIdentity, r.IdentityID.String()) // its principals gain the roles
	return r, nil
}

// RejectSSORequest drops the waiting account id of t; an identity the request made, with no role
// anywhere and no other request, is deleted with it.
func (s *Store) RejectSSORequest(ctx context.Context, t *Tenant, id uuid.UUID) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		r := new(SSORequest)
		if err := tx.NewSelect().Model(r).Where("sr.id = ? AND sr.tenant_id = ?", id, t.ID).Scan(ctx); err != nil {
			if isNotFound(dbx.Translate(err)) {
				return errs.E(errs.NotFound, msgSSONoRequest, id)
			}
			return err
		}
		if _, err := tx.NewDelete().Model(r).WherePK().Exec(ctx); err != nil {
			return err
		}
		if r.NewIdentity {
			if _, err := tx.NewDelete().Model((*Identity)(nil)).Where("id = ? AND status = 'disabled'", r.IdentityID).
				Where("NOT EXISTS (SELECT 1 FROM control.memberships AS m WHERE m.identity_id = identity.id)").
				Where("NOT EXISTS (SELECT 1 FROM control.sso_requests AS o WHERE o.identity_id = identity.id)").Exec(ctx); err != nil {
				return err
			}
		}
		return s.Audit(ctx, tx, "sso.request.reject", &t.ID, r.IdentityID.String(), map[string]string{"value": r.Value, "email": r.Email})
	})
}

// SSOFlow is a sign-in in progress: what the callback must find again. The browser holds its
// token in a cookie; only the token's hash is stored, and a flow is used once.
type SSOFlow struct {
	bun.BaseModel `bun:"table:control.sso_flows,alias:sf"`

	TokenHash  string    `bun:"token_hash,pk"`
	ProviderID uuid.UUID `bun:"provider_id,type:uuid"`
	State      string    `bun:"state"`
	Nonce      string    `bun:"nonce"`
	Verifier   string    `bun:"verifier"`
	Next       string    `bun:"next"`
	CreatedAt  time.Time `bun:"created_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
}

// SSOFlowTTL is how long a sign-in may take at the provider.
const SSOFlowTTL = 10 * time.Minute

// CreateSSOFlow records a sign-in starting at provider and returns the token for the browser's
// cookie. Expired flows are cleared on the way.
func (s *Store) CreateSSOFlow(ctx context.Context, provider uuid.UUID, state, nonce, verifier, next string) (string, error) {
	token, hash := NewToken("ssf_")
	now := s.now()
	f := &SSOFlow{TokenHash: hash, ProviderID: provider, State: state, Nonce: nonce, Verifier: verifier, Next: next, CreatedAt: now, ExpiresAt: now.Add(SSOFlowTTL)}
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*SSOFlow)(nil)).Where("expires_at < ?", now).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(f).Exec(ctx)
		return err
	})
	return token, err
}

// TakeSSOFlow returns the flow of token and deletes it: a callback is answered once.
func (s *Store) TakeSSOFlow(ctx context.Context, token string) (*SSOFlow, error) {
	if token == "" || len(token) > 100 {
		return nil, errs.E(errs.Invalid, msgSSONoFlow)
	}
	f := new(SSOFlow)
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(f).Where("token_hash = ?", HashToken(token)).Scan(ctx); err != nil {
			return err
		}
		_, err := tx.NewDelete().Model(f).WherePK().Exec(ctx)
		return err
	})
	if isNotFound(err) || (err == nil && s.now().After(f.ExpiresAt)) {
		return nil, errs.E(errs.Invalid, msgSSONoFlow)
	}
	return f, err
}

// SSOClaims is what a provider vouched for, verified: the subject, the value of the provider's
// matching claim (NormalizeClaim'd), and the email and name when the provider gave them.
type SSOClaims struct {
	Subject string
	Value   string
	Email   string
	Name    string
}

// SSORefusal is a sign-in the provider vouched for but CityOps refuses; Reason says why, for the
// audit log.
type SSORefusal struct {
	Reason string
	Err    error
}

func (r *SSORefusal) Error() string { return r.Err.Error() }
func (r *SSORefusal) Unwrap() error { return r.Err }

// SSOSignIn signs in whom provider p vouched for with claims (verified by tenants/sso) and returns
// the session token. The claim value finds the identity (a link, or the email itself when p
// matches by email); for a tenant's provider the identity must be an active member of the
// tenant, for the operator's an operator. The session carries only that authority: a tenant's
// provider opens no door into another tenant, nor the operations console. Someone unknown is
// refused, or, with the tenant's just-in-time accounts on, recorded as an SSORequest for an admin
// and refused until approved. Refusals are *SSORefusal errors; the caller audits them.
func (s *Store) SSOSignIn(ctx context.Context, p *SSOProvider, c SSOClaims, idToken, userAgent, ip string) (string, *Identity, error) {
	var t *Tenant
	if p.TenantID != nil {
		var err error
		if t, err = s.FindTenantByID(ctx, *p.TenantID); err != nil {
			return "", nil, err
		}
		if t.Status != StatusActive && t.Status != StatusSuspended {
			return "", nil, &SSORefusal{Reason: "tenant_" + string(t.Status), Err: errs.E(errs.Forbidden, msgSSOTenantClosed, t.NameZH)}
		}
	}
	var id *Identity
	var refusal error
	token, hash := NewToken("ses_")
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if id, err = s.ssoIdentity(ctx, tx, p, c.Value); err != nil {
			return err
		}
		if t == nil { // the operator's provider
			if id == nil || id.OperatorRole == "" {
				refusal = &SSORefusal{Reason: "not_operator", Err: errs.E(errs.Forbidden, msgSSONotOperator)}
				return nil
			}
		} else {
			if refusal, err = s.ssoAdmit(ctx, tx, p, t, &id, c); err != nil || refusal != nil {
				return err
			}
		}
		if id.Status != "active" {
			refusal = &SSORefusal{Reason: "disabled", Err: errs.E(errs.Forbidden, msgAccountDisabled)}
			return nil
		}
		now := s.now()
		sess := &Session{TokenHash: hash, IdentityID: id.ID, CreatedAt: now, ExpiresAt: now.Add(SessionMax), LastSeenAt: now,
			UserAgent: textutil.Truncate(userAgent, 200), IP: ip, SSOProviderID: &p.ID, SSOTenantID: p.TenantID, IDToken: idToken}
		if _, err := tx.NewInsert().Model(sess).Exec(ctx); err != nil {
			return err
		}
		id.LastLoginAt = &now
		if _, err := tx.NewUpdate().Model(id).Column("last_login_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*Session)(nil)).Where("identity_id = ? AND expires_at < ?", id.ID, now).Exec(ctx); err != nil {
			return err
		}
		actx := WithPrincipal(ctx, &Principal{Identity: id})
		return s.Audit(actx, tx, "sso.login", p.TenantID, id.Email, map[string]string{"provider": p.Key, "subject": c.Subject, "value": c.Value})
	})
	if err != nil {
		return "", nil, err
	}
	if refusal != nil {
		return "", nil, refusal
	}
	return token, id, nil
}

// ssoIdentity finds the identity p's claim value stands for: a link first, then, for a provider
// matching by email, the identity with that email. None is (nil, nil).
func (s *Store) ssoIdentity(ctx context.Context, db bun.IDB, p *SSOProvider, value string) (*Identity, error) {
	id := new(Identity)
	err := db.NewSelect().Model(id).Where("id = (SELECT identity_id FROM control.sso_links WHERE provider_id = ? AND value = ?)", p.ID, value).Scan(ctx)
	if err == nil {
		return id, nil
	}
	if err = dbx.Translate(err); !isNotFound(err) {
		return nil, err
	}
	if p.Claim != ClaimEmail {
		return nil, nil
	}
	err = db.NewSelect().Model(id).Where("lower(email) = ?", value).Scan(ctx)
	if err == nil {
		return id, nil
	}
	if err = dbx.Translate(err); !isNotFound(err) {
		return nil, err
	}
	return nil, nil
}

// ssoAdmit checks that *id is a member of t, or, when it is not (or unknown) and t takes
// just-in-time accounts, records the request (making the identity if need be) and refuses.
func (s *Store) ssoAdmit(ctx context.Context, tx bun.IDB, p *SSOProvider, t *Tenant, id **Identity, c SSOClaims) (refusal error, err error) {
	if *id != nil {
		n, err := tx.NewSelect().Model((*Membership)(nil)).Where("identity_id = ? AND tenant_id = ?", (*id).ID, t.ID).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, nil
		}
	}
	pol, err := findLoginPolicy(ctx, tx, t.ID)
	if err != nil {
		return nil, err
	}
	if !pol.JITAccounts {
		return &SSORefusal{Reason: "unknown", Err: errs.E(errs.Forbidden, msgSSOUnknown, t.NameZH)}, nil
	}
	now := s.now()
	req := new(SSORequest)
	q := tx.NewSelect().Model(req).Where("sr.tenant_id = ?", t.ID)
	if *id != nil {
		q = q.Where("sr.identity_id = ?", (*id).ID)
	} else {
		q = q.Where("sr.provider_id = ? AND sr.value = ?", p.ID, c.Value)
	}
	switch err := dbx.Translate(q.Limit(1).Scan(ctx)); {
	case err == nil:
		if _, err := tx.NewUpdate().Model(req).Set("last_seen_at = ?", now).WherePK().Exec(ctx); err != nil {
			return nil, err
		}
		return &SSORefusal{Reason: "pending", Err: errs.E(errs.Forbidden, msgSSOPending, t.NameZH)}, nil
	case !isNotFound(err):
		return nil, err
	}
	req = &SSORequest{ID: uuid.New(), TenantID: t.ID, ProviderID: p.ID, Value: c.Value, Subject: textutil.Truncate(c.Subject, 255),
		Email: c.Email, Name: textutil.Truncate(c.Name, 100), RequestedAt: now, LastSeenAt: now}
	if *id == nil {
		ident := &Identity{ID: uuid.New(), Email: s.jitEmail(ctx, tx, p, c), Name: req.Name, Status: "disabled", Locale: "zh-CN", CreatedAt: now}
		if _, err := tx.NewInsert().Model(ident).Exec(ctx); err != nil {
			return nil, err
		}
		req.NewIdentity, *id = true, ident
	}
	req.IdentityID = (*id).ID
	if req.Email == "" {
		req.Email = (*id).Email
	}
	if _, err := tx.NewInsert().Model(req).Exec(ctx); err != nil {
		return nil, err
	}
	if err := s.Audit(WithPrincipal(ctx, &Principal{Identity: *id}), tx, "sso.request", &t.ID, (*id).Email,
		map[string]string{"provider": p.Key, "subject": c.Subject, "value": c.Value}); err != nil {
		return nil, err
	}
	return &SSORefusal{Reason: "pending_new", Err: errs.E(errs.Forbidden, msgSSORequested, t.NameZH)}, nil
}

// jitEmail is the email of an identity made for a just-in-time account: the provider's email
// when it has one nobody uses, else a made-up address under .invalid (RFC 2606) that names the
// provider, which no mail reaches and no password sign-in matches.
func (s *Store) jitEmail(ctx context.Context, tx bun.IDB, p *SSOProvider, c SSOClaims) string {
	if e := strings.ToLower(c.Email); validEmail(e) {
		if n, err := tx.NewSelect().Model((*Identity)(nil)).Where("lower(email) = ?", e).Count(ctx); err == nil && n == 0 {
			return e
		}
	}
	sum := sha256.Sum256([]byte(p.ID.String() + "\x00" + c.Value))
	return "sso-" + hex.EncodeToString(sum[:8]) + "@" + p.Key + ".sso.invalid"
}

// SSOSession is what logout needs of a session opened through a provider.
type SSOSession struct {
	ProviderID uuid.UUID
	TenantID   *uuid.UUID
	IDToken    string
}

// FindSSOSession returns the provider side of the session token, or NotFound for a session
// opened with a password (or none).
func (s *Store) FindSSOSession(ctx context.Context, token string) (*SSOSession, error) {
	sess := new(Session)
	if err := s.reader.NewSelect().Model(sess).Where("token_hash = ?", HashToken(token)).Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	if sess.SSOProviderID == nil {
		return nil, errs.E(errs.NotFound, msgSSONoSession)
	}
	return &SSOSession{ProviderID: *sess.SSOProviderID, TenantID: sess.SSOTenantID, IDToken: sess.IDToken}, nil
}

// FindSSOProviderByID returns the provider with id, whatever its realm (logout).
func (s *Store) FindSSOProviderByID(ctx context.Context, id uuid.UUID) (*SSOProvider, error) {
	p := new(SSOProvider)
	if err := s.reader.NewSelect().Model(p).Where("sp.id = ?", id).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return nil, errs.E(errs.NotFound, msgSSONoProvider, id)
		}
		return nil, dbx.Translate(err)
	}
	return p, nil
}

// realm narrows p to the authority of the session's provider: a tenant's provider keeps only the
// memberships in that tenant and no operator role; the operator's keeps the operator role only.
func (sess *Session) realm(p *Principal) *Principal {
	if sess.SSOProviderID == nil {
		return p
	}
	id := *p.Identity
	out := &Principal{Identity: &id, TokenID: p.TokenID}
	if sess.SSOTenantID == nil {
		return out
	}
	id.OperatorRole = ""
	for _, m := range p.Memberships {
		if m.TenantID == *sess.SSOTenantID {
			out.Memberships = append(out.Memberships, m)
		}
	}
	return out
}
