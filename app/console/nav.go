package console

import (
	"strings"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// NavItem is one link of the console's navigation.
type NavItem struct {
	Href, Key string
	Active    bool
	// Count is the number the link carries (a module's Nav.Count), 0 for none.
	Count int
}

// StaffPosts are the case-loop posts that have an inbox.
var StaffPosts = []tenants.Role{tenants.Inspector, tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.Handler, tenants.Leader}

// nav lists the links the caller may follow from the current page: the tenant's pages when the
// request is inside one (/t/:tenant/...), the operator's console for operators.
func nav(c *fiber.Ctx, sc *tenants.Scope, modules []NavItem) []NavItem {
	var items []NavItem
	if sc != nil {
		base := "/t/" + sc.Tenant.Slug
		if sc.Via != nil && sc.Via.Kind == tenants.Prefecture {
			// A prefecture viewer inside one of its counties: the way back to the overview.
			items = append(items, NavItem{Href: "/t/" + sc.Via.Slug + "/overview", Key: "nav.overview"})
		}
		if sc.Tenant.Kind == tenants.Prefecture {
			items = append(items, NavItem{Href: base + "/overview", Key: "nav.overview"})
		}
		if sc.Has(StaffPosts...) {
			items = append(items, NavItem{Href: base + "/inbox", Key: "nav.inbox"})
		}
		items = append(items, NavItem{Href: base + "/cases", Key: "nav.cases"}, NavItem{Href: base + "/map", Key: "nav.map"})
		if sc.Has(tenants.Inspector, tenants.Acceptor) && !sc.ReadOnly {
			items = append(items, NavItem{Href: base + "/report", Key: "nav.report"})
		}
		if sc.Has(tenants.Inspector) && !sc.ReadOnly {
			items = append(items, NavItem{Href: base + "/m/", Key: "nav.field"})
		}
		if cases.CanViewTracks(sc) {
			items = append(items, NavItem{Href: base + "/tracks", Key: "nav.tracks"})
		}
		items = append(items, modules...)
		if sc.Has(tenants.TenantAdmin) {
			items = append(items, NavItem{Href: base + "/admin", Key: "nav.admin"})
		}
		if billing.CanSee(sc) {
			items = append(items, NavItem{Href: base + "/billing", Key: "nav.billing"})
		}
	}
	if p := module.Principal(c); p != nil && p.IsOperator() {
		items = append(items, NavItem{Href: "/ops", Key: "nav.ops"})
	}
	path := c.Path()
	best := -1
	for i, it := range items {
		if (path == it.Href || strings.HasPrefix(path, it.Href+"/")) && (best < 0 || len(it.Href) > len(items[best].Href)) {
			best = i
		}
	}
	if best >= 0 {
		items[best].Active = true
	}
	return items
}

// WorkPage is the page of sc's tenant where someone with sc's roles does their work, by the first
// that applies: a prefecture viewer's is the prefecture overview; a case-loop post's (StaffPosts)
// the inbox; a tenant admin's the tenant console; anyone else's (a viewer, a prefecture viewer or
// an operator reading a county) the prefecture's overview or a county's case list.
func WorkPage(sc *tenants.Scope) string {
	base := "/t/" + sc.Tenant.Slug
	switch {
	case sc.Has(tenants.PrefectureViewer):
		return base + "/overview"
	case sc.Has(StaffPosts...):
		return base + "/inbox"
	case sc.Has(tenants.TenantAdmin):
		return base + "/admin"
	case sc.Tenant.Kind == tenants.Prefecture:
		return base + "/overview"
	}
	return base + "/cases"
}
