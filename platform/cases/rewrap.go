package cases

import (
	"context"
	"fmt"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Rewrapper re-encrypts ciphertexts under the newest version of a tenant's key without exposing
// the plaintext ((secrets.Store).Rewrap satisfies it).
type Rewrapper interface {
	Rewrap(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([]string, error)
}

// KeyRotator is what rotating a tenant's key needs of the secret store (secrets.Store satisfies
// it).
type KeyRotator interface {
	Rewrapper
	RotateTenantKey(ctx context.Context, tenant uuid.UUID) (secrets.KeyInfo, error)
	SetMinDecryptionVersion(ctx context.Context, tenant uuid.UUID, version int) error
}

// KeyRotation is the outcome of RotateTenantKey: the key's versions after it, and how many
// stored values were re-wrapped.
type KeyRotation struct {
	LatestVersion        int `json:"latest_version"`
	MinDecryptionVersion int `json:"min_decryption_version"`
	Rewrapped            int `json:"rewrapped"`
}

// RotateTenantKey rotates t's key, re-wraps the personal data the case loop stored under older
// versions (RewrapPersonalData), and then raises the key's minimum decryption version, so that a
// leaked old key version decrypts nothing stored. Interrupted, it can be run again: the re-wrap
// picks up what is left. It is audited on t as tenant.key.rotate, with the outcome. The case
// loop is the only module that stores data under the tenant's key; a second one would make this
// an orchestration over every module's re-wrap.
func (s *Service) RotateTenantKey(ctx context.Context, t *tenants.Tenant, keys KeyRotator) (*KeyRotation, error) {
	info, err := keys.RotateTenantKey(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	tctx := tenants.WithScope(ctx, tenants.SystemScope(t))
	n, err := s.RewrapPersonalData(tctx, keys, info.LatestVersion)
	if err != nil {
		return nil, fmt.Errorf("re-wrap after rotating to version %d: %w", info.LatestVersion, err)
	}
	if err := keys.SetMinDecryptionVersion(ctx, t.ID, info.LatestVersion); err != nil {
		return nil, err
	}
	out := &KeyRotation{LatestVersion: info.LatestVersion, MinDecryptionVersion: info.LatestVersion, Rewrapped: n}
	return out, s.gate.AuditTenant(tctx, "tenant.key.rotate", t.Slug, out)
}

// SealedExport is the case loop's personal data as tenant exports see it
// (tenants.Store.AddExportSealed): the reporter's name and phone, stored as reporter_name_enc and
// reporter_phone_enc under the tenant's key. An export with personal data in clear decrypts them
// into reporter_name and reporter_phone; offboarding counts the cases that hold them.
type SealedExport struct{ cipher Cipher }

// SealedExport returns the service's export source of personal data.
func (s *Service) SealedExport() *SealedExport { return &SealedExport{cipher: s.cipher} }

// SealedColumns are the cases' reporter name and phone.
func (*SealedExport) SealedColumns() []tenants.SealedColumn {
	return []tenants.SealedColumn{
		{Table: "cases", Column: "reporter_name_enc", Clear: "reporter_name"},
		{Table: "cases", Column: "reporter_phone_enc", Clear: "reporter_phone"},
	}
}

// Open decrypts ciphertexts of t in one batch: all or nothing, errs.Unavailable when the key
// service is down, errs.Destroyed when the key is gone.
func (e *SealedExport) Open(ctx context.Context, t *tenants.Tenant, ciphertexts []string) ([]string, error) {
	plain, err := e.cipher.DecryptBatch(ctx, t.ID, ciphertexts)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(plain))
	for i, p := range plain {
		out[i] = string(p)
	}
	return out, nil
}

var _ tenants.ExportSealed = (*SealedExport)(nil)

// rewrapBatch is how many cases one re-wrap transaction covers.
const rewrapBatch = 500

// RewrapPersonalData re-wraps every reporter name and phone of the tenant in ctx's scope that a
// key version older than latest made, batch by batch (each batch one gate transaction, one
// Rewrap call), and returns how many values it re-wrapped. Run it after rotating the tenant's
// key and before raising the key's minimum decryption version; it can be interrupted and run
// again. A row changed meanwhile is left for the next run rather than overwritten.
func (s *Service) RewrapPersonalData(ctx context.Context, rw Rewrapper, latest int) (int, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return 0, errs.E(errs.Internal, msgReWrapWithoutTenantScope)
	}
	type row struct {
		ID    string  `bun:"id"`
		Name  *string `bun:"reporter_name_enc"`
		Phone *string `bun:"reporter_phone_enc"`
	}
	done, after := 0, ""
	for {
		var page []row
		err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewSelect().Table("cases").Column("id", "reporter_name_enc", "reporter_phone_enc").
				Where("id > ?", after).OrderExpr("id").Limit(rewrapBatch).Scan(ctx, &page)
		})
		if err != nil {
			return done, err
		}
		if len(page) == 0 {
			return done, nil
		}
		after = page[len(page)-1].ID
		// Collect the stale values of this page, remembering where each came from.
		var old []string
		type ref struct {
			row   int
			phone bool
		}
		var refs []ref
		for i, r := range page {
			for _, f := range []struct {
				v     *string
				phone bool
			}{{r.Name, false}, {r.Phone, true}} {
				if f.v == nil || *f.v == "" {
					continue
				}
				v, err := secrets.CiphertextVersion(*f.v)
				if err != nil {
					return done, fmt.Errorf("case %s: %w", r.ID, err)
				}
				if v < latest {
					old = append(old, *f.v)
					refs = append(refs, ref{i, f.phone})
				}
			}
		}
		if len(old) == 0 {
			continue
		}
		fresh, err := rw.Rewrap(ctx, sc.Tenant.ID, old)
		if err != nil {
			return done, err
		}
		err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			for k, rf := range refs {
				col := "reporter_name_enc"
				if rf.phone {
					col = "reporter_phone_enc"
				}
				if _, err := db.NewUpdate().Table("cases").Set("? = ?", bun.Ident(col), fresh[k]).
					Where("id = ?", page[rf.row].ID).Where("? = ?", bun.Ident(col), old[k]).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += len(old)
	}
}
