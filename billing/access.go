package billing

import (
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
)

// CanSee reports whether sc may read its tenant's billing: the tenant's administrators and
// leaders, the prefecture's viewers and anyone else reaching the tenant through its prefecture
// (read-only), and operators. Billing lives in the control plane, so its reads do not pass the
// tenant gate: this rule is what admits them. The API, the console and its navigation all ask it.
func CanSee(sc *tenants.Scope) bool {
	return sc != nil && (sc.Has(tenants.TenantAdmin, tenants.Leader, tenants.PrefectureViewer) || sc.Via != nil || sc.Operator)
}

// CheckSee is CanSee as an error: errs.Forbidden when sc may not read the tenant's billing.
func CheckSee(sc *tenants.Scope) error {
	if !CanSee(sc) {
		return errs.E(errs.Forbidden, msgOnlyTenantAdministratorsLeadersPrefecture)
	}
	return nil
}
