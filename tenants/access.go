package tenants

import (
	"context"
	"slices"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
)

// Role is an operator role (held by an identity across the deployment) or a tenant role (held
// through a membership in one tenant).
type Role string

// Operator roles.
const (
	OperatorAdmin   Role = "operator_admin"
	OperatorBilling Role = "operator_billing"
	OperatorSupport Role = "operator_support"
)

// Tenant roles.
const (
	TenantAdmin      Role = "tenant_admin"
	Inspector        Role = "inspector"  // 监督员
	Acceptor         Role = "acceptor"   // 受理员
	ShiftLead        Role = "shift_lead" // 值班长
	Dispatcher       Role = "dispatcher" // 派遣员
	Handler          Role = "handler"    // 处置人员
	Leader           Role = "leader"     // 领导
	Viewer           Role = "viewer"
	PrefectureViewer Role = "prefecture_viewer" // reads every descendant county, read-only
)

// OperatorRoles and TenantRoles list the valid roles of each kind.
var (
	OperatorRoles = []Role{OperatorAdmin, OperatorBilling, OperatorSupport}
	TenantRoles   = []Role{TenantAdmin, Inspector, Acceptor, ShiftLead, Dispatcher, Handler, Leader, Viewer, PrefectureViewer}
)

// ValidTenantRole checks r for a membership in a tenant of kind k.
func ValidTenantRole(r Role, k Kind) error {
	if !slices.Contains(TenantRoles, r) {
		return errs.Field("role", msgRoleNotTenantRole, textutil.Truncate(string(r), 40))
	}
	if r == PrefectureViewer && k != Prefecture {
		return errs.Field("role", msgRolePrefectureViewerExistsOnly)
	}
	return nil
}

// writingRoles are the tenant roles that may change a tenant's data.
var writingRoles = []Role{TenantAdmin, Inspector, Acceptor, ShiftLead, Dispatcher, Handler, Leader}

// Principal is who is making a request: an identity with its memberships.
type Principal struct {
	Identity    *Identity
	Memberships []Membership
	// TokenID is set when the request was authenticated by an API token.
	TokenID *uuid.UUID
}

// IsOperator reports whether the principal holds any operator role; with roles given, one of them.
func (p *Principal) IsOperator(roles ...Role) bool {
	if p == nil || p.Identity == nil || p.Identity.OperatorRole == "" {
		return false
	}
	return len(roles) == 0 || slices.Contains(roles, p.Identity.OperatorRole)
}

// RolesIn returns the principal's roles in tenant id.
func (p *Principal) RolesIn(id uuid.UUID) []Role {
	if p == nil {
		return nil
	}
	var out []Role
	for _, m := range p.Memberships {
		if m.TenantID == id {
			out = append(out, m.Role)
		}
	}
	return out
}

// Scope is a principal's access to one tenant for one request. The tenant gate takes the tenant
// from it; ReadOnly makes the gate open read-only transactions under the read-only role.
type Scope struct {
	Tenant   *Tenant
	Roles    []Role
	ReadOnly bool
	// Via is the ancestor tenant through which a prefecture viewer reaches Tenant; set for every
	// cross-tenant read (and only then), which is audited.
	Via *Tenant
	// Operator is set when an operator reaches tenant data for support; always read-only.
	Operator bool
}

// Has reports whether the scope holds one of roles.
func (s *Scope) Has(roles ...Role) bool {
	for _, r := range s.Roles {
		if slices.Contains(roles, r) {
			return true
		}
	}
	return false
}

// Resolve works out what p may do in t, given t's ancestors (nearest first). Access is: a direct
// membership (read-write unless every role is viewer); prefecture_viewer in an ancestor
// (read-only); an operator (read-only, for support). Anyone else gets NotFound, so that a tenant's
// existence does not leak.
func Resolve(p *Principal, t *Tenant, ancestors []*Tenant) (*Scope, error) {
	if p == nil || p.Identity == nil {
		return nil, errs.E(errs.Unauthorized, msgPleaseLog)
	}
	if roles := p.RolesIn(t.ID); len(roles) > 0 {
		ro := true
		for _, r := range roles {
			if slices.Contains(writingRoles, r) {
				ro = false
			}
		}
		return &Scope{Tenant: t, Roles: roles, ReadOnly: ro}, nil
	}
	for _, a := range ancestors {
		if slices.Contains(p.RolesIn(a.ID), PrefectureViewer) {
			return &Scope{Tenant: t, Roles: []Role{Viewer}, ReadOnly: true, Via: a}, nil
		}
	}
	if p.IsOperator() {
		return &Scope{Tenant: t, Roles: []Role{Viewer}, ReadOnly: true, Operator: true}, nil
	}
	return nil, errs.E(errs.NotFound, msgNoTenant, t.Slug)
}

type scopeKey struct{}
type principalKey struct{}

// WithScope returns ctx carrying sc.
func WithScope(ctx context.Context, sc *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// ScopeFrom returns the scope in ctx, or nil.
func ScopeFrom(ctx context.Context) *Scope {
	sc, _ := ctx.Value(scopeKey{}).(*Scope)
	return sc
}

// SystemScope is full access to t for the platform's own work (jobs, provisioning, seeding).
func SystemScope(t *Tenant) *Scope { return &Scope{Tenant: t, Roles: []Role{TenantAdmin}} }

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
