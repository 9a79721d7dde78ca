package tenants

import (
	"context"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// TenantFilter narrows FindTenants. The zero value lists every tenant that is not deleted.
type TenantFilter struct {
	Status         Status
	ParentID       *uuid.UUID
	IncludeDeleted bool
}

// FindTenants lists tenants in admin-code order.
func (s *Store) FindTenants(ctx context.Context, f TenantFilter) ([]*Tenant, error) {
	var out []*Tenant
	q := s.reader.NewSelect().Model(&out).OrderExpr("admin_code, created_at")
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	} else if !f.IncludeDeleted {
		q = q.Where("status <> ?", StatusDeleted)
	}
	if f.ParentID != nil {
		q = q.Where("parent_id = ?", *f.ParentID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return out, nil
}

// FindVisibleTenants lists the tenants p may see: operators all of them; others their own
// tenants and, through prefecture_viewer, the prefecture's descendants.
func (s *Store) FindVisibleTenants(ctx context.Context, p *Principal) ([]*Tenant, error) {
	all, err := s.FindTenants(ctx, TenantFilter{})
	if err != nil || p.IsOperator() {
		return all, err
	}
	mine := map[uuid.UUID]bool{}
	viewerOf := map[uuid.UUID]bool{}
	for _, m := range p.Memberships {
		mine[m.TenantID] = true
		if m.Role == PrefectureViewer {
			viewerOf[m.TenantID] = true
		}
	}
	out := []*Tenant{}
	for _, t := range all {
		if mine[t.ID] || (t.ParentID != nil && viewerOf[*t.ParentID]) {
			out = append(out, t)
		}
	}
	return out, nil
}

// FindTenantByID returns the tenant with id, deleted or not.
func (s *Store) FindTenantByID(ctx context.Context, id uuid.UUID) (*Tenant, error) {
	return findTenantByID(ctx, s.reader, id)
}

func findTenantByID(ctx context.Context, db bun.IDB, id uuid.UUID) (*Tenant, error) {
	t := new(Tenant)
	if err := db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, errs.E(errs.NotFound, msgNoTenantId, id)
		}
		return nil, dbx.Translate(err)
	}
	return t, nil
}

// FindTenantBySlug returns the live (not deleted) tenant with slug. The slug is validated first,
// so nothing malformed reaches the database.
func (s *Store) FindTenantBySlug(ctx context.Context, slug string) (*Tenant, error) {
	return findTenantBySlug(ctx, s.reader, slug)
}

func findTenantBySlug(ctx context.Context, db bun.IDB, slug string) (*Tenant, error) {
	if err := ValidateSlug(slug); err != nil {
		return nil, errs.E(errs.NotFound, msgNoTenant, textutil.Truncate(slug, 60))
	}
	t := new(Tenant)
	err := db.NewSelect().Model(t).Where("slug = ?", slug).Where("status <> ?", StatusDeleted).Scan(ctx)
	if err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return nil, errs.E(errs.NotFound, msgNoTenant, slug)
		}
		return nil, dbx.Translate(err)
	}
	return t, nil
}

// Ancestors returns t's ancestors, nearest first.
func (s *Store) Ancestors(ctx context.Context, t *Tenant) ([]*Tenant, error) {
	var out []*Tenant
	seen := map[uuid.UUID]bool{t.ID: true}
	for p := t.ParentID; p != nil && !seen[*p]; {
		seen[*p] = true
		a, err := s.FindTenantByID(ctx, *p)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		p = a.ParentID
	}
	return out, nil
}

// Children returns the live tenants whose parent is t.
func (s *Store) Children(ctx context.Context, t *Tenant) ([]*Tenant, error) {
	return s.FindTenants(ctx, TenantFilter{ParentID: &t.ID})
}

// maxUnder is how many units ReadableUnder returns at most (a province has some 130 counties).
const maxUnder = 1000

// ReadableUnder returns a read-only scope for every unit below t (its counties, and any unit
// below those), breadth first, that p may read: what a prefecture's pages compare. A unit p may
// not read is left out; scopes are read-only whatever else p may do in a unit.
func (s *Store) ReadableUnder(ctx context.Context, p *Principal, t *Tenant) ([]*Scope, error) {
	anc, err := s.Ancestors(ctx, t)
	if err != nil {
		return nil, err
	}
	type unit struct {
		t     *Tenant
		chain []*Tenant // ancestors, nearest first
	}
	var out []*Scope
	queue := []unit{{t, anc}}
	for len(queue) > 0 && len(out) < maxUnder {
		u := queue[0]
		queue = queue[1:]
		kids, err := s.Children(ctx, u.t)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			ku := unit{k, append([]*Tenant{u.t}, u.chain...)}
			queue = append(queue, ku)
			sc, err := Resolve(p, k, ku.chain)
			if errs.Is(err, errs.NotFound) {
				continue // not readable by p: not shown
			}
			if err != nil {
				return nil, err
			}
			sc.ReadOnly = true
			out = append(out, sc)
		}
	}
	return out, nil
}
