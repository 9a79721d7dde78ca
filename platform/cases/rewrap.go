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
		return 0, errs.E(errs.Internal, "re-wrap without a tenant scope")
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
