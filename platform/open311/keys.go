package open311

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Key is the api key of one client app of a tenant (a city app, the 12345 hotline's system).
// Only the SHA-256 of the key is stored; the key itself is shown once, when created.
type Key struct {
	bun.BaseModel `bun:"table:open311_keys"`
	ID            string     `bun:"id,pk" json:"id"`
	Name          string     `bun:"name" json:"name"`
	KeyHash       string     `bun:"key_hash" json:"-"`
	CreatedAt     time.Time  `bun:"created_at" json:"created_at"`
	RevokedAt     *time.Time `bun:"revoked_at" json:"revoked_at,omitempty"`
}

// keyPrefix marks Open311 api keys, so that a leaked one is recognisable.
const keyPrefix = "o311_"

// CreateKey issues an api key for client name in t and returns it with its record. The key is
// not stored and cannot be shown again. It is audited as open311.key_create, with the name.
func (s *Service) CreateKey(ctx context.Context, t *tenants.Tenant, name string) (string, *Key, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return "", nil, errs.Field("name", msgClientNameRequiredMostCharacters)
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k := &Key{ID: uuid.NewString(), Name: name, KeyHash: tenants.HashToken(secret), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.gate.Tx(tenants.WithScope(ctx, tenants.SystemScope(t)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(k).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return "", nil, err
	}
	if err := s.gate.AuditNow(ctx, "open311.key_create", &t.ID, k.ID, map[string]string{"name": k.Name}); err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// FindKeys lists t's api keys, revoked ones included, oldest first.
func (s *Service) FindKeys(ctx context.Context, t *tenants.Tenant) ([]Key, error) {
	ks := []Key{}
	err := s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&ks).Order("created_at", "id").Scan(ctx)
	})
	return ks, err
}

// RevokeKey revokes api key id of t; requests made with it stay. It is audited as
// open311.key_revoke, with the key's name (again if the key was already revoked).
func (s *Service) RevokeKey(ctx context.Context, t *tenants.Tenant, id string) (*Key, error) {
	k := &Key{}
	err := s.gate.Tx(tenants.WithScope(ctx, tenants.SystemScope(t)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var ks []Key
		if err := db.NewSelect().Model(&ks).Where("id = ?", id).Scan(ctx); err != nil {
			return err
		}
		if len(ks) == 0 {
			return errs.E(errs.NotFound, msgNoApiKey, textutil.Truncate(id, 40))
		}
		*k = ks[0]
		if k.RevokedAt != nil {
			return nil
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		k.RevokedAt = &now
		_, err := db.NewUpdate().Model(k).Column("revoked_at").WherePK().Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditNow(ctx, "open311.key_revoke", &t.ID, k.ID, map[string]string{"name": k.Name}); err != nil {
		return nil, err
	}
	return k, nil
}

// checkKey finds the live key in t whose hash is that of key; Forbidden otherwise. A key of
// another tenant is unknown here, since keys live in their tenant's schema.
func (s *Service) checkKey(ctx context.Context, t *tenants.Tenant, key string) (*Key, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return nil, errs.E(errs.Forbidden, msgApiKeyRequiredCreateRequest)
	}
	var ks []Key
	err := s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&ks).Where("key_hash = ? AND revoked_at IS NULL", tenants.HashToken(key)).Limit(1).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(ks) == 0 {
		return nil, errs.E(errs.Forbidden, msgApiKeyNotValidJurisdiction)
	}
	return &ks[0], nil
}
