// Package sso signs staff in through OpenID Connect: the authorization code flow with PKCE,
// state and nonce, the ID token verified (issuer, audience, signature, expiry with a small
// clock-skew allowance, nonce) with coreos/go-oidc, the provider's claim mapped to an identity
// by tenants.Store.SSOSignIn, and RP-initiated logout. The providers, their client secrets (in
// the secret store) and the tenants' sign-in rules are configured per tenant and for the
// operator; docs/identity.md is the guide.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"
)

// Credentials is the part of the secret store the client secrets live in.
type Credentials interface {
	PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (secrets.Credential, error)
	Credential(ctx context.Context, tenant uuid.UUID, name string) (secrets.Secret, error)
	DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error
}

// Config is what a Service needs.
type Config struct {
	Store   *tenants.Store
	Secrets Credentials
	// BaseURL is CITYOPS_BASE_URL, which starts the redirect URIs registered at the providers.
	BaseURL string
	// Client makes the calls to the providers (discovery, keys, token, userinfo); default a
	// client with a 10 s timeout.
	Client *http.Client
	// ClockSkew is how far the provider's clock and ours may differ: an ID token is accepted
	// up to this long after it expired, and refused when issued more than this in the future.
	// Default DefaultClockSkew.
	ClockSkew time.Duration
	// Now is the clock (the store's by default).
	Now func() time.Time
	// PlainHTTPIssuers admits http issuers on the loopback interface (a provider on the same
	// machine: development, the tests). Off, every issuer must be https: an admin's issuer is an
	// address the server fetches, and plain http to the loopback would reach the host's own
	// services.
	PlainHTTPIssuers bool
	Log              *slog.Logger
}

// DefaultClockSkew is the clock-skew allowance unless configured (CITYOPS_SSO_CLOCK_SKEW).
const DefaultClockSkew = 2 * time.Minute

// discoveryTTL is how long a provider's discovery document is reused. Its keys are fetched again
// whenever a token names a key the cached set does not have (a rotation).
const discoveryTTL = time.Hour

// Service runs the sign-in flows.
type Service struct {
	c  Config
	mu sync.Mutex
	// ops caches discovered providers by issuer.
	ops map[string]cachedOP
}

type cachedOP struct {
	op      *oidc.Provider
	end     string // end_session_endpoint, if offered
	fetched time.Time
}

// New returns a Service.
func New(c Config) *Service {
	if c.Client == nil {
		c.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if c.ClockSkew <= 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.Now == nil {
		c.Now = c.Store.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	return &Service{c: c, ops: map[string]cachedOP{}}
}

// ClockSkew is the allowance in force.
func (s *Service) ClockSkew() time.Duration { return s.c.ClockSkew }

// realmID is a tenant's id, nil for the operator.
func realmID(t *tenants.Tenant) *uuid.UUID {
	if t == nil {
		return nil
	}
	return &t.ID
}

// RedirectURI is the address to register at the provider for the tenant t (nil: the operator).
func (s *Service) RedirectURI(t *tenants.Tenant, key string) string {
	return s.c.BaseURL + CallbackPath(t, key)
}

// StartPath and CallbackPath are where a sign-in with key starts and returns.
func StartPath(t *tenants.Tenant, key string) string { return base(t, key) + "/start" }

// CallbackPath is the path of the redirect URI (RedirectURI).
func CallbackPath(t *tenants.Tenant, key string) string { return base(t, key) + "/callback" }

func base(t *tenants.Tenant, key string) string {
	if t == nil {
		return "/sso/ops/" + key
	}
	return "/sso/t/" + t.Slug + "/" + key
}

// PostLogoutRedirectURI is where providers send the browser back after logging out: the login
// page. Register it at the provider too.
func (s *Service) PostLogoutRedirectURI() string { return s.c.BaseURL + "/login" }

// Begin starts a sign-in at t's provider key (t nil: the operator's): it records the flow and
// returns the provider's authorization URL and the flow token for the browser's cookie. next is
// where the person goes after signing in (already checked to be a local path).
func (s *Service) Begin(ctx context.Context, t *tenants.Tenant, key, next string) (authURL, flow string, err error) {
	p, err := s.c.Store.FindSSOProvider(ctx, realmID(t), key)
	if err != nil {
		return "", "", err
	}
	if !p.Enabled {
		return "", "", errs.E(errs.NotFound, msgProviderOff, p.DisplayName)
	}
	op, err := s.discover(ctx, p)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	if flow, err = s.c.Store.CreateSSOFlow(ctx, p.ID, state, nonce, verifier, next); err != nil {
		return "", "", err
	}
	conf := s.oauth(t, p, op.op, "")
	return conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), flow, nil
}

// Callback is what the provider sent back to the redirect URI.
type Callback struct {
	State, Code, Error, ErrorDescription string
}

// Finish completes a sign-in at the redirect URI of t's provider key: the flow of the browser's
// cookie (used once) must be this provider's and carry the same state; the code is exchanged
// with the PKCE verifier; the ID token is verified; its claim finds the identity
// (tenants.Store.SSOSignIn). It returns the new session's token and where to go. Every refusal
// at a provider is audited (sso.refused) with its reason, and answered with a 4xx error whose
// message tells the person what happened.
func (s *Service) Finish(ctx context.Context, t *tenants.Tenant, key, flow string, cb Callback, userAgent, ip string) (session, next string, err error) {
	p, err := s.c.Store.FindSSOProvider(ctx, realmID(t), key)
	if err != nil {
		return "", "", err
	}
	session, next, err = s.finish(ctx, t, p, flow, cb, userAgent, ip)
	if err != nil {
		reason := errs.MessageID(err)
		var r *tenants.SSORefusal
		if errors.As(err, &r) {
			reason = r.Reason
		}
		if code := errs.CodeOf(err); code != errs.Internal {
			if aerr := s.c.Store.AuditNow(ctx, "sso.refused", p.TenantID, p.Key, map[string]string{"reason": reason, "message": errs.MessageOf(err)}); aerr != nil {
				return "", "", aerr
			}
		}
		s.c.Log.Info("single sign-on refused", "provider", p.Key, "tenant", tenantSlug(t), "reason", reason)
	}
	return session, next, err
}

func tenantSlug(t *tenants.Tenant) string {
	if t == nil {
		return ""
	}
	return t.Slug
}

func (s *Service) finish(ctx context.Context, t *tenants.Tenant, p *tenants.SSOProvider, flowToken string, cb Callback, userAgent, ip string) (string, string, error) {
	f, err := s.c.Store.TakeSSOFlow(ctx, flowToken)
	if err != nil {
		return "", "", err
	}
	if f.ProviderID != p.ID || cb.State == "" || subtle.ConstantTimeCompare([]byte(cb.State), []byte(f.State)) != 1 {
		return "", "", errs.E(errs.Invalid, msgStateMismatch)
	}
	if cb.Error != "" {
		return "", "", errs.E(errs.Forbidden, msgProviderRefused, p.DisplayName, textutil.Truncate(cb.Error, 60), textutil.Truncate(cb.ErrorDescription, 200))
	}
	if cb.Code == "" || len(cb.Code) > 4096 {
		return "", "", errs.E(errs.Invalid, msgNoCode)
	}
	if !p.Enabled {
		return "", "", errs.E(errs.Forbidden, msgProviderOff, p.DisplayName)
	}
	op, err := s.discover(ctx, p)
	if err != nil {
		return "", "", err
	}
	secret, err := s.c.Secrets.Credential(ctx, p.SecretOwner(), tenants.SSOSecretName(p.Key))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return "", "", errs.E(errs.Unavailable, msgNoSecret, p.DisplayName, tenants.SSOSecretName(p.Key))
		}
		return "", "", err
	}
	hctx := oidc.ClientContext(ctx, s.c.Client)
	tok, err := s.oauth(t, p, op.op, secret.Reveal()).Exchange(hctx, cb.Code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return "", "", errs.E(errs.Forbidden, msgCodeRefused, p.DisplayName, textutil.Truncate(re.ErrorCode, 60))
		}
		return "", "", errs.Wrap(err, errs.Upstream, msgProviderDown, p.DisplayName)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", "", errs.E(errs.Upstream, msgNoIDToken, p.DisplayName)
	}
	claims, err := s.verify(hctx, p, op, raw, f.Nonce, tok)
	if err != nil {
		return "", "", err
	}
	session, _, err := s.c.Store.SSOSignIn(ctx, p, claims, raw, userAgent, ip)
	if err != nil {
		return "", "", err
	}
	return session, f.Next, nil
}

// verify checks the ID token raw and returns its claims: the signature with the provider's keys
// (fetched again when the token names a key not yet seen, so a rotation needs nothing here), the
// issuer, the audience (this client; with several audiences, azp must be this client too),
// expiry and issue time within the clock-skew allowance, and the nonce of the flow. The
// provider's matching claim comes from the token, or from the userinfo endpoint when the token
// lacks it.
func (s *Service) verify(ctx context.Context, p *tenants.SSOProvider, op cachedOP, raw, nonce string, tok *oauth2.Token) (tenants.SSOClaims, error) {
	var out tenants.SSOClaims
	v := op.op.Verifier(&oidc.Config{ClientID: p.ClientID, SkipClientIDCheck: true, SkipExpiryCheck: true, Now: s.c.Now})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		if strings.Contains(err.Error(), "issued by a different provider") {
			return out, errs.E(errs.Forbidden, msgTokenIssuer, p.DisplayName)
		}
		if strings.Contains(err.Error(), "fetching keys") {
			return out, errs.Wrap(err, errs.Upstream, msgProviderDown, p.DisplayName)
		}
		return out, errs.E(errs.Forbidden, msgTokenSignature, p.DisplayName)
	}
	if !contains(idt.Audience, p.ClientID) {
		return out, errs.E(errs.Forbidden, msgTokenAudience, p.DisplayName)
	}
	var std struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&std); err != nil {
		return out, errs.E(errs.Forbidden, msgTokenSignature, p.DisplayName)
	}
	if len(idt.Audience) > 1 && std.AZP != p.ClientID {
		return out, errs.E(errs.Forbidden, msgTokenAudience, p.DisplayName)
	}
	now, skew := s.c.Now(), s.c.ClockSkew
	if idt.Expiry.IsZero() || now.After(idt.Expiry.Add(skew)) {
		return out, errs.E(errs.Forbidden, msgTokenExpired, p.DisplayName, skew.String())
	}
	if idt.IssuedAt.After(now.Add(skew)) {
		return out, errs.E(errs.Forbidden, msgTokenFuture, p.DisplayName, skew.String())
	}
	if nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return out, errs.E(errs.Forbidden, msgTokenNonce, p.DisplayName)
	}
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return out, errs.E(errs.Forbidden, msgTokenSignature, p.DisplayName)
	}
	if _, ok := all[p.Claim]; !ok {
		// Many providers put email and phone in userinfo only.
		ui, err := op.op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err == nil && ui.Subject == idt.Subject {
			var more map[string]any
			if ui.Claims(&more) == nil {
				for k, v := range more {
					if _, ok := all[k]; !ok {
						all[k] = v
					}
				}
			}
		}
	}
	value, ok := claimString(all[p.Claim])
	if !ok {
		return out, errs.E(errs.Forbidden, msgNoClaim, p.DisplayName, p.Claim)
	}
	if verified, present := all[p.Claim+"_verified"].(bool); present && !verified {
		return out, errs.E(errs.Forbidden, msgClaimUnverified, p.DisplayName, p.Claim)
	}
	if out.Value, err = tenants.NormalizeClaim(p.Claim, value); err != nil {
		return out, errs.E(errs.Forbidden, msgNoClaim, p.DisplayName, p.Claim)
	}
	out.Subject = idt.Subject
	if e, ok := all["email"].(string); ok && textOK(e) {
		out.Email = strings.ToLower(strings.TrimSpace(e))
		if verified, present := all["email_verified"].(bool); present && !verified {
			out.Email = ""
		}
	}
	if n, ok := all["name"].(string); ok && textOK(n) {
		out.Name = textutil.Truncate(strings.TrimSpace(n), 100)
	}
	if !textOK(out.Subject) {
		return out, errs.E(errs.Forbidden, msgTokenSignature, p.DisplayName)
	}
	return out, nil
}

// claimString is a claim's value as text: strings as they are, whole numbers without exponent
// (an employee number sent as a JSON number).
func claimString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), true
		}
	case json.Number:
		return x.String(), true
	}
	return "", false
}

func textOK(s string) bool {
	return len(s) <= 1000 && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd })
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// LogoutURL ends the session with token and returns where to send the browser: the provider's
// end_session_endpoint with id_token_hint and post_logout_redirect_uri when the session came
// from a provider that offers one, else "" (the local login page). The local session ends in any
// case, even when the provider cannot be reached.
func (s *Service) LogoutURL(ctx context.Context, token string) (string, error) {
	var to string
	if ss, err := s.c.Store.FindSSOSession(ctx, token); err == nil {
		if p, err := s.c.Store.FindSSOProviderByID(ctx, ss.ProviderID); err == nil {
			if op, err := s.discover(ctx, p); err == nil && op.end != "" {
				q := url.Values{"post_logout_redirect_uri": {s.PostLogoutRedirectURI()}, "client_id": {p.ClientID}}
				if ss.IDToken != "" {
					q.Set("id_token_hint", ss.IDToken)
				}
				sep := "?"
				if strings.Contains(op.end, "?") {
					sep = "&"
				}
				to = op.end + sep + q.Encode()
			} else if err != nil {
				s.c.Log.Warn("single sign-on logout: provider not reachable; the local session ends", "provider", p.Key, "err", err)
			}
		}
	} else if !errs.Is(err, errs.NotFound) {
		return "", err
	}
	if err := s.c.Store.Logout(ctx, token); err != nil {
		return "", err
	}
	return to, nil
}

func (s *Service) oauth(t *tenants.Tenant, p *tenants.SSOProvider, op *oidc.Provider, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(),
		RedirectURL: s.RedirectURI(t, p.Key), Scopes: strings.Fields(p.Scopes)}
}

// discover returns p's provider from its discovery document, cached for discoveryTTL.
func (s *Service) discover(ctx context.Context, p *tenants.SSOProvider) (cachedOP, error) {
	now := time.Now()
	s.mu.Lock()
	c, ok := s.ops[p.Issuer]
	s.mu.Unlock()
	if ok && now.Sub(c.fetched) < discoveryTTL {
		return c, nil
	}
	// The provider's key set outlives this request: it gets a context of its own, with the
	// client (and its timeout), not the request's.
	op, err := oidc.NewProvider(oidc.ClientContext(context.Background(), s.c.Client), p.Issuer)
	if err != nil {
		return cachedOP{}, errs.Wrap(err, errs.Upstream, msgDiscovery, p.DisplayName, p.Issuer)
	}
	var meta struct {
		End string `json:"end_session_endpoint"`
	}
	_ = op.Claims(&meta)
	if meta.End != "" && !webURL(meta.End) {
		meta.End = "" // the browser is sent there: nothing but a web address
	}
	c = cachedOP{op: op, end: meta.End, fetched: now}
	s.mu.Lock()
	s.ops[p.Issuer] = c
	s.mu.Unlock()
	return c, nil
}

// PutProvider creates or changes t's provider in.Key (t nil: the operator's) and, when secret is
// not empty, stores its client secret in the secret store. A new provider needs a secret. When
// the secret cannot be stored, a provider just created is removed again, so that nothing is
// left half made; a changed provider keeps its old secret.
func (s *Service) PutProvider(ctx context.Context, t *tenants.Tenant, in tenants.SSOProviderInput, secret, by string) (*tenants.SSOProvider, bool, error) {
	if len(secret) > secrets.MaxCredential || strings.ContainsRune(secret, 0) {
		return nil, false, errs.Field("client_secret", msgSecretInvalid)
	}
	if u, err := url.Parse(strings.TrimSpace(in.Issuer)); err == nil && u.Scheme == "http" && !s.c.PlainHTTPIssuers {
		return nil, false, errs.Field("issuer", msgIssuerHTTPS, textutil.Truncate(in.Issuer, 80))
	}
	if secret == "" {
		if _, err := s.c.Store.FindSSOProvider(ctx, realmID(t), strings.TrimSpace(in.Key)); errs.Is(err, errs.NotFound) {
			return nil, false, errs.Field("client_secret", msgSecretRequired)
		}
	}
	p, created, err := s.c.Store.PutSSOProvider(ctx, realmID(t), in, by)
	if err != nil || secret == "" {
		return p, created, err
	}
	if _, err := s.c.Secrets.PutCredential(ctx, p.SecretOwner(), tenants.SSOSecretName(p.Key), secret, by); err != nil {
		if created {
			if _, derr := s.c.Store.DeleteSSOProvider(ctx, realmID(t), p.Key); derr != nil {
				s.c.Log.Error("single sign-on: provider left without its secret", "provider", p.Key, "err", derr)
			}
		}
		return nil, false, err
	}
	s.forget(p.Issuer)
	return p, created, nil
}

// DeleteProvider removes t's provider key with its sessions and links, then its client secret.
func (s *Service) DeleteProvider(ctx context.Context, t *tenants.Tenant, key string) error {
	p, err := s.c.Store.DeleteSSOProvider(ctx, realmID(t), key)
	if err != nil {
		return err
	}
	s.forget(p.Issuer)
	err = s.c.Secrets.DeleteCredential(ctx, p.SecretOwner(), tenants.SSOSecretName(p.Key))
	if err != nil && !errs.Is(err, errs.NotFound) {
		s.c.Log.Warn("single sign-on: the deleted provider's secret stays in the secret store", "provider", p.Key, "err", err)
	}
	return nil
}

// forget drops the cached discovery of issuer (a provider was changed).
func (s *Service) forget(issuer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ops, issuer)
}

// HasSecret reports whether p's client secret is in the secret store.
func (s *Service) HasSecret(ctx context.Context, p *tenants.SSOProvider) bool {
	_, err := s.c.Secrets.Credential(ctx, p.SecretOwner(), tenants.SSOSecretName(p.Key))
	return err == nil
}

// webURL reports whether u is an absolute http(s) URL.
func webURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && textOK(u)
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
