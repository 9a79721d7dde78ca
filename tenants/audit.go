package tenants

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// AuditEntry is one row of the append-only audit log: an administrative action or a cross-tenant
// read. The database refuses to update or delete rows.
type AuditEntry struct {
	bun.BaseModel `bun:"table:control.audit_log"`

	ID         int64      `bun:"id,pk,autoincrement" json:"id"`
	At         time.Time  `bun:"at" json:"at"`
	ActorID    *uuid.UUID `bun:"actor_id,type:uuid" json:"actor_id,omitempty"`
	ActorEmail string     `bun:"actor_email" json:"actor_email"`
	Action     string     `bun:"action" json:"action"`
	TenantID   *uuid.UUID `bun:"tenant_id,type:uuid" json:"tenant_id,omitempty"`
	Target     string     `bun:"target" json:"target"`
	Detail     string     `bun:"detail" json:"detail"`
	RequestID  string     `bun:"request_id" json:"request_id,omitempty"`
	IP         string     `bun:"ip" json:"ip,omitempty"`
}

// RequestInfo is what the HTTP layer knows about a request, for the audit log.
type RequestInfo struct {
	ID string
	IP string
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// Audit appends an entry for action on tenant (may be nil) to the log inside db, so that it
// commits or rolls back with the change it records. Actor and request come from ctx.
func (s *Store) Audit(ctx context.Context, db bun.IDB, action string, tenant *uuid.UUID, target string, detail any) error {
	e := &AuditEntry{At: s.now(), Action: action, TenantID: tenant, Target: target, Detail: "{}"}
	if p := PrincipalFrom(ctx); p != nil && p.Identity != nil {
		id := p.Identity.ID
		e.ActorID, e.ActorEmail = &id, p.Identity.Email
	} else {
		e.ActorEmail = "system"
	}
	if ri, ok := ctx.Value(requestInfoKey{}).(RequestInfo); ok {
		e.RequestID, e.IP = ri.ID, ri.IP
	}
	if detail != nil {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		e.Detail = string(b)
	}
	_, err := db.NewInsert().Model(e).Exec(ctx)
	return dbx.Translate(err)
}

// AuditNow appends an entry in a transaction of its own, for actions whose change was made
// elsewhere (a file written, a secret stored, a read across tenants).
func (s *Store) AuditNow(ctx context.Context, action string, tenant *uuid.UUID, target string, detail any) error {
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		return s.Audit(ctx, tx, action, tenant, target, detail)
	})
}

// AuditTenant appends an entry for action on the tenant of ctx's scope, in a transaction of its
// own. It is how the platform modules audit what they change: their changes commit in the
// tenant's transaction (Tx), which cannot write the control plane's log (the tenant's role has no
// grant on it in PostgreSQL, and on SQLite the tenant is another file), so a module records the
// entry right after its change has committed, in the same service method. Without a tenant scope
// it fails.
func (s *Store) AuditTenant(ctx context.Context, action, target string, detail any) error {
	sc := ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return errs.E(errs.Internal, msgAuditWithoutTenantScope, action)
	}
	return s.AuditNow(ctx, action, &sc.Tenant.ID, target, detail)
}

// AuditCrossRead records a read of sc's tenant by someone from outside it (a prefecture viewer
// reading a county, an operator); nothing for a member's own access. Method and path say what
// was read.
func (s *Store) AuditCrossRead(ctx context.Context, sc *Scope, method, path string) error {
	if sc.Via == nil && !sc.Operator {
		return nil
	}
	detail := map[string]string{"method": method, "path": path}
	if sc.Via != nil {
		detail["via"] = sc.Via.Slug
	}
	return s.AuditNow(ctx, "tenant.cross_read", &sc.Tenant.ID, sc.Tenant.Slug, detail)
}

// AuditFilter narrows FindAudit.
type AuditFilter struct {
	TenantID *uuid.UUID
	Action   string
	BeforeID int64 // cursor: entries with a smaller id
	Limit    int
}

// FindAudit lists audit entries, newest first.
func (s *Store) FindAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var out []*AuditEntry
	q := s.reader.NewSelect().Model(&out).OrderExpr("id DESC").Limit(int64(f.Limit))
	if f.TenantID != nil {
		q = q.Where("tenant_id = ?", *f.TenantID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	return out, nil
}
