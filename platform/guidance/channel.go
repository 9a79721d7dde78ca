package guidance

import (
	"context"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Channel is the one crossing between a prefecture and its counties. Everything the other side
// sees of a unit's guidance records goes through its two functions, and both only read:
//
//   - FromPrefecture: a county reads its prefecture's items addressed to it (notices, tasks,
//     templates, spot checks, the reviews of its own answers);
//   - FromCounty: a prefecture reads one of its counties' receipts, answers and submissions.
//
// Each checks the relation in the control plane (the county's chain of parents reaches the
// prefecture), opens the other tenant through the tenant gate with a read-only scope (a
// read-only transaction under the tenant's read-only database role on PostgreSQL, the reader
// handle of its file on SQLite), and records the crossing in the audit log before reading. A
// write through either is refused by the gate before any SQL, and by the database after it.
// Nothing else in the package opens a scope on another tenant.
type Channel struct {
	gate *tenants.Store
}

// Audit actions of the crossings.
const (
	ActionReadPrefecture = "guidance.read_prefecture"
	ActionReadCounty     = "guidance.read_county"
)

// PrefectureOf returns the nearest prefecture above county, or NotFound.
func (ch *Channel) PrefectureOf(ctx context.Context, county *tenants.Tenant) (*tenants.Tenant, error) {
	anc, err := ch.gate.Ancestors(ctx, county)
	if err != nil {
		return nil, err
	}
	for _, a := range anc {
		if a.Kind == tenants.Prefecture {
			return a, nil
		}
	}
	return nil, errs.E(errs.NotFound, msgNoPrefecture)
}

// Counties returns the units below pref (its counties and any unit below those) that the flows
// address, in the control plane's order; tenants that are not active or suspended are left out.
func (ch *Channel) Counties(ctx context.Context, pref *tenants.Tenant) ([]*tenants.Tenant, error) {
	var out []*tenants.Tenant
	queue := []*tenants.Tenant{pref}
	for len(queue) > 0 && len(out) < 1000 {
		kids, err := ch.gate.Children(ctx, queue[0])
		if err != nil {
			return nil, err
		}
		queue = queue[1:]
		for _, k := range kids {
			queue = append(queue, k)
			if k.Status == tenants.StatusActive || k.Status == tenants.StatusSuspended {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

// CountyOf returns the county of pref whose slug is slug, or NotFound (also for a unit that
// exists but is not below pref: no existence leaks).
func (ch *Channel) CountyOf(ctx context.Context, pref *tenants.Tenant, slug string) (*tenants.Tenant, error) {
	t, err := ch.gate.FindTenantBySlug(ctx, slug)
	if err != nil {
		return nil, errs.E(errs.NotFound, msgNoCounty, slug)
	}
	if ok, err := ch.below(ctx, t, pref); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, errs.E(errs.NotFound, msgNoCounty, slug)
	}
	return t, nil
}

// below reports whether t's chain of parents reaches pref.
func (ch *Channel) below(ctx context.Context, t, pref *tenants.Tenant) (bool, error) {
	anc, err := ch.gate.Ancestors(ctx, t)
	if err != nil {
		return false, err
	}
	for _, a := range anc {
		if a.ID == pref.ID {
			return true, nil
		}
	}
	return false, nil
}

// FromPrefecture runs fn in a read-only transaction of the prefecture above the county of ctx's
// scope, with that county's id for fn to filter by. The crossing is audited on the prefecture.
func (ch *Channel) FromPrefecture(ctx context.Context, what string, fn func(ctx context.Context, db bun.IDB, pref *tenants.Tenant, county uuid.UUID) error) error {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return errs.E(errs.Internal, msgNoPrefecture)
	}
	county := sc.Tenant
	pref, err := ch.PrefectureOf(ctx, county)
	if err != nil {
		return err
	}
	if err := ch.gate.AuditNow(ctx, ActionReadPrefecture, &pref.ID, pref.Slug, map[string]string{"county": county.Slug, "what": what}); err != nil {
		return err
	}
	rctx := tenants.WithScope(ctx, &tenants.Scope{Tenant: pref, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true})
	return ch.gate.Tx(rctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return fn(ctx, db, pref, county.ID)
	})
}

// FromCounty runs fn in a read-only transaction of county, which must be below the prefecture
// of ctx's scope. The crossing is audited on the county.
func (ch *Channel) FromCounty(ctx context.Context, county *tenants.Tenant, what string, fn func(ctx context.Context, db bun.IDB) error) error {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil || sc.Tenant.Kind != tenants.Prefecture {
		return errs.E(errs.NotFound, msgNotPrefecture)
	}
	ok, err := ch.below(ctx, county, sc.Tenant)
	if err != nil {
		return err
	}
	if !ok {
		return errs.E(errs.NotFound, msgNoCounty, county.Slug)
	}
	if county.Status != tenants.StatusActive && county.Status != tenants.StatusSuspended {
		return errs.E(errs.Unavailable, msgNoCounty, county.Slug)
	}
	if err := ch.gate.AuditNow(ctx, ActionReadCounty, &county.ID, county.Slug, map[string]string{"prefecture": sc.Tenant.Slug, "what": what}); err != nil {
		return err
	}
	rctx := tenants.WithScope(ctx, &tenants.Scope{Tenant: county, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true, Via: sc.Tenant})
	return ch.gate.Tx(rctx, tenants.Read, fn)
}
