package tenants

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Session is a web login. The cookie holds the token; only its hash is stored.
type Session struct {
	bun.BaseModel `bun:"table:control.sessions"`

	TokenHash  string    `bun:"token_hash,pk"`
	IdentityID uuid.UUID `bun:"identity_id,type:uuid"`
	CreatedAt  time.Time `bun:"created_at"`
	ExpiresAt  time.Time `bun:"expires_at"`
	LastSeenAt time.Time `bun:"last_seen_at"`
	UserAgent  string    `bun:"user_agent"`
	IP         string    `bun:"ip"`
	// SSOProviderID is the provider a single sign-on session was opened through (nil: a
	// password); such a session carries only the authority of the provider's tenant,
	// SSOTenantID (nil: the operator's), and keeps the ID token for the provider's logout.
	SSOProviderID *uuid.UUID `bun:"sso_provider_id,type:uuid"`
	SSOTenantID   *uuid.UUID `bun:"sso_tenant_id,type:uuid"`
	IDToken       string     `bun:"id_token"`
}

// APIToken lets a program act as an identity. The token is shown once; only its hash is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:control.api_tokens"`

	ID         uuid.UUID  `bun:"id,pk,type:uuid" json:"id"`
	IdentityID uuid.UUID  `bun:"identity_id,type:uuid" json:"identity_id"`
	Name       string     `bun:"name" json:"name"`
	Prefix     string     `bun:"prefix" json:"prefix"`
	TokenHash  string     `bun:"token_hash" json:"-"`
	CreatedAt  time.Time  `bun:"created_at" json:"created_at"`
	ExpiresAt  *time.Time `bun:"expires_at" json:"expires_at,omitempty"`
	LastUsedAt *time.Time `bun:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
}

// Session lifetimes: a session ends after SessionIdle without use or SessionMax after login.
const (
	SessionIdle = 12 * time.Hour
	SessionMax  = 7 * 24 * time.Hour
	touchEvery  = time.Minute
)

// NewIdentity is what creating an identity takes.
type NewIdentity struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Password     string `json:"password"`
	OperatorRole Role   `json:"operator_role"`
	Locale       string `json:"locale"`
}

// CreateIdentity creates an identity (operators through the CLI or API; everyone else by
// accepting an invitation).
func (s *Store) CreateIdentity(ctx context.Context, in NewIdentity) (*Identity, error) {
	var id *Identity
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		var err error
		id, err = s.createIdentity(ctx, tx, in)
		if err != nil {
			return err
		}
		return s.Audit(ctx, tx, "identity.create", nil, id.Email, map[string]any{"operator_role": id.OperatorRole})
	})
	return id, err
}

func (s *Store) createIdentity(ctx context.Context, db bun.IDB, in NewIdentity) (*Identity, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if !validEmail(email) {
		return nil, errs.Field("email", msgNotEmailAddress, textutil.Truncate(email, 80))
	}
	if in.OperatorRole != "" && !slices.Contains(OperatorRoles, in.OperatorRole) {
		return nil, errs.Field("operator_role", msgOperatorRoleDoesNotExist, textutil.Truncate(string(in.OperatorRole), 40))
	}
	if len([]rune(in.Name)) > 100 {
		return nil, errs.Field("name", msgNameLongerThanCharacters)
	}
	hash, err := HashPassword(in.Password, s.passwords)
	if err != nil {
		return nil, err
	}
	locale := in.Locale
	if locale != "en" {
		locale = "zh-CN"
	}
	id := &Identity{ID: uuid.New(), Email: email, Name: strings.TrimSpace(in.Name), PasswordHash: hash,
		OperatorRole: in.OperatorRole, Status: "active", Locale: locale, CreatedAt: s.now()}
	if _, err := db.NewInsert().Model(id).Exec(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.Conflict) {
			return nil, errs.Field("email", msgAccountEmailExistsAlready, email)
		}
		return nil, dbx.Translate(err)
	}
	return id, nil
}

// dummyHash makes a login for an unknown email cost as much as one for a known email.
var dummyHash, _ = HashPassword("not-a-real-password", DefaultPasswordParams)

// Login checks email and password and opens a session; it returns the session token for the
// cookie. Unknown email and wrong password give the same error. Failed logins are throttled per
// account and per client address ip (LoginThrottle): while a delay is pending, Login returns a
// RateLimited error with RetryAfter without checking the password.
func (s *Store) Login(ctx context.Context, email, password, userAgent, ip string) (string, *Identity, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	att, err := s.logins.Begin(email, ip, s.now())
	if err != nil {
		return "", nil, err
	}
	defer func() { att.Release(s.now()) }() // a database error counts neither way
	if wait, err := s.sharedLoginWait(ctx, email, ip, s.now()); err != nil {
		return "", nil, err
	} else if wait > 0 {
		return "", nil, tooManyLogins(wait)
	}
	fail := func() (string, *Identity, error) {
		att.Fail(s.now())
		if err := s.sharedLoginFail(context.WithoutCancel(ctx), email, ip, s.now()); err != nil {
			s.log.Warn("failed login not counted across replicas", "err", err)
		}
		return "", nil, errs.E(errs.Unauthorized, msgEmailPasswordWrong)
	}
	id := new(Identity)
	err = s.reader.NewSelect().Model(id).Where("lower(email) = ?", email).Scan(ctx)
	if err != nil {
		if err = dbx.Translate(err); !isNotFound(err) {
			return "", nil, err
		}
		CheckPassword(dummyHash, password)
		return fail()
	}
	if !CheckPassword(id.PasswordHash, password) || id.Status != "active" {
		return fail()
	}
	// The right password of a member of a tenant that switched passwords off (sso.go).
	if err := s.passwordsAllowed(ctx, id); err != nil {
		return "", nil, err
	}
	token, hash := NewToken("ses_")
	now := s.now()
	err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		sess := &Session{TokenHash: hash, IdentityID: id.ID, CreatedAt: now, ExpiresAt: now.Add(SessionMax),
			LastSeenAt: now, UserAgent: textutil.Truncate(userAgent, 200), IP: ip}
		if _, err := tx.NewInsert().Model(sess).Exec(ctx); err != nil {
			return err
		}
		id.LastLoginAt = &now
		if _, err := tx.NewUpdate().Model(id).Column("last_login_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		// Expired sessions of this identity are cleared at each login.
		_, err := tx.NewDelete().Model((*Session)(nil)).Where("identity_id = ? AND expires_at < ?", id.ID, now).Exec(ctx)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	att.Succeed(s.now())
	if err := s.sharedLoginSucceed(context.WithoutCancel(ctx), email); err != nil {
		s.log.Warn("login failures not cleared across replicas", "err", err)
	}
	return token, id, nil
}

// Logout ends the session with token.
func (s *Store) Logout(ctx context.Context, token string) error {
	hash := HashToken(token)
	defer s.invalidate(ctx, invalidSession, hash) // after the delete, so no lookup re-caches the session
	_, err := s.db.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", hash).Exec(ctx)
	return dbx.Translate(err)
}

// PrincipalBySession returns who holds the session token, or Unauthorized.
func (s *Store) PrincipalBySession(ctx context.Context, token string) (*Principal, error) {
	hash := HashToken(token)
	if p, ok := s.principals.get("s:"+hash, s.now()); ok {
		return p, nil
	}
	sess := new(Session)
	if err := s.reader.NewSelect().Model(sess).Where("token_hash = ?", hash).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return nil, errs.E(errs.Unauthorized, msgYourSessionHasEndedPlease)
		}
		return nil, dbx.Translate(err)
	}
	now := s.now()
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > SessionIdle {
		return nil, errs.E(errs.Unauthorized, msgYourSessionHasEndedPlease)
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if _, err := s.db.NewUpdate().Model(sess).Set("last_seen_at = ?", now).WherePK().Exec(ctx); err != nil {
			s.log.Warn("touch session", "err", err)
		}
	}
	p, err := s.principal(ctx, sess.IdentityID, nil)
	if err != nil {
		return nil, err
	}
	p = sess.realm(p) // a single sign-on session: its provider's tenant only (sso.go)
	// Reused until the session expires or would go idle, at most PrincipalCacheTTL.
	until := sess.ExpiresAt
	if idle := sess.LastSeenAt.Add(SessionIdle); idle.Before(until) {
		until = idle
	}
	s.principals.put("s:"+hash, p, now, &until)
	return p, nil
}

// CreateAPIToken issues a token for identity; ttl 0 means it does not expire.
func (s *Store) CreateAPIToken(ctx context.Context, identity uuid.UUID, name string, ttl time.Duration) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, errs.Field("name", msgTokenNeedsNameCharacters)
	}
	token, hash := NewToken("cot_")
	now := s.now()
	t := &APIToken{ID: uuid.New(), IdentityID: identity, Name: name, Prefix: token[:10], TokenHash: hash, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "token.create", nil, t.Prefix, map[string]string{"name": name})
	})
	if err != nil {
		return "", nil, err
	}
	return token, t, nil
}

// FindAPITokens lists identity's tokens, newest first.
func (s *Store) FindAPITokens(ctx context.Context, identity uuid.UUID) ([]*APIToken, error) {
	var out []*APIToken
	err := s.reader.NewSelect().Model(&out).Where("identity_id = ?", identity).OrderExpr("created_at DESC").Scan(ctx)
	return out, dbx.Translate(err)
}

// RevokeAPIToken revokes one of identity's tokens.
func (s *Store) RevokeAPIToken(ctx context.Context, identity, id uuid.UUID) error {
	defer s.invalidate(ctx, invalidToken, id.String()) // after the commit, so no lookup re-caches the old row
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*APIToken)(nil)).Set("revoked_at = ?", s.now()).
			Where("id = ? AND identity_id = ? AND revoked_at IS NULL", id, identity).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoActiveTokenId, id)
		}
		return s.Audit(ctx, tx, "token.revoke", nil, id.String(), nil)
	})
}

// PrincipalByAPIToken returns who holds the API token, or Unauthorized.
func (s *Store) PrincipalByAPIToken(ctx context.Context, token string) (*Principal, error) {
	hash := HashToken(token)
	if p, ok := s.principals.get("t:"+hash, s.now()); ok {
		return p, nil
	}
	t := new(APIToken)
	if err := s.reader.NewSelect().Model(t).Where("token_hash = ?", hash).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return nil, errs.E(errs.Unauthorized, msgApiTokenNotValid)
		}
		return nil, dbx.Translate(err)
	}
	now := s.now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && now.After(*t.ExpiresAt)) {
		return nil, errs.E(errs.Unauthorized, msgApiTokenHasBeenRevoked)
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if _, err := s.db.NewUpdate().Model(t).Set("last_used_at = ?", now).WherePK().Exec(ctx); err != nil {
			s.log.Warn("touch token", "err", err)
		}
	}
	p, err := s.principal(ctx, t.IdentityID, &t.ID)
	if err != nil {
		return nil, err
	}
	s.principals.put("t:"+hash, p, now, t.ExpiresAt)
	return p, nil
}

func (s *Store) principal(ctx context.Context, identity uuid.UUID, token *uuid.UUID) (*Principal, error) {
	id := new(Identity)
	if err := s.reader.NewSelect().Model(id).Where("id = ?", identity).Scan(ctx); err != nil {
		return nil, errs.E(errs.Unauthorized, msgPleaseLog)
	}
	if id.Status != "active" {
		return nil, errs.E(errs.Unauthorized, msgAccountDisabled)
	}
	p := &Principal{Identity: id, TokenID: token}
	if err := s.reader.NewSelect().Model(&p.Memberships).
		Join("JOIN control.tenants AS t ON t.id = membership.tenant_id").
		Where("membership.identity_id = ?", identity).Where("t.status <> ?", StatusDeleted).
		Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return p, nil
}
