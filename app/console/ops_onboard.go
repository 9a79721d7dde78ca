package console

import (
	"context"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// Division is a reference division as the onboarding wizard (ops_new) offers it.
type Division struct {
	tenants.Division
	// Taken is set when a live tenant already has the code.
	Taken bool
}

// divisions reads the reference divisions of one province (two digits) below province level,
// marking those already onboarded; none without a province. The whole list has some 3,200, too
// many for one list, so the wizard shows one province at a time.
func (o *opsPages) divisions(ctx context.Context, province string, live []*tenants.Tenant) ([]Division, error) {
	if province == "" {
		return nil, nil
	}
	ds, err := o.d.Store.FindDivisions(ctx, tenants.DivisionFilter{Province: province})
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, t := range live {
		taken[t.AdminCode] = true
	}
	out := make([]Division, len(ds))
	for i, d := range ds {
		out[i] = Division{Division: d, Taken: taken[d.Code]}
	}
	return out, nil
}

// NewTenantForm is what the onboarding wizard holds, also to show it again after an error.
// Province (two digits) is the province whose divisions step 1 lists.
type NewTenantForm struct {
	Province, Division, Parent, AdminCode, Slug, NameZH, NameEN, Kind, Plan, Email string
}

// wizardProvince is the province whose divisions the wizard lists: the one asked for, else that
// of the chosen division or of the code typed, else the parent prefecture's, else the first
// prefecture tenant's; "" when none of these says.
func wizardProvince(form NewTenantForm, live []*tenants.Tenant) string {
	digits := func(s string, n int) bool { return len(s) == n && strings.Trim(s, "0123456789") == "" }
	switch {
	case digits(form.Province, 2):
		return form.Province
	case digits(form.Division, 6):
		return form.Division[:2]
	case digits(form.AdminCode, 6):
		return form.AdminCode[:2]
	}
	for _, t := range live {
		if t.Kind == tenants.Prefecture && t.Slug == form.Parent {
			return t.AdminCode[:2]
		}
	}
	for _, t := range live {
		if t.Kind == tenants.Prefecture {
			return t.AdminCode[:2]
		}
	}
	return ""
}

func (o *opsPages) newTenantPage(c *fiber.Ctx, form NewTenantForm, formErr string) error {
	ctx := c.UserContext()
	live, err := o.d.Store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil {
		return err
	}
	form.Province = wizardProvince(form, live)
	divs, err := o.divisions(ctx, form.Province, live)
	if err != nil {
		return err
	}
	provinces, err := o.d.Store.FindDivisions(ctx, tenants.DivisionFilter{Level: tenants.LevelProvince})
	if err != nil {
		return err
	}
	plans, err := o.d.Billing.FindPlans(ctx)
	if err != nil {
		return err
	}
	var prefectures []*tenants.Tenant
	for _, t := range live {
		if t.Kind == tenants.Prefecture {
			prefectures = append(prefectures, t)
		}
	}
	return o.d.UI.Render(c, "ops_new", fiber.Map{"Form": form, "Error": formErr, "Divisions": divs, "Provinces": provinces,
		"Prefectures": prefectures, "Plans": plans, "Kinds": []tenants.Kind{tenants.County, tenants.City, tenants.District, tenants.Prefecture}})
}

// newTenant shows the onboarding wizard for ?province= (two digits); ?division=code fills it
// from the reference data (name, code, kind, and the parent prefecture when it is a tenant
// already), unless ?province= names another province: then the operator switched province, and
// the wizard lists that one.
func (o *opsPages) newTenant(c *fiber.Ctx) error {
	form := NewTenantForm{Kind: string(tenants.County), Plan: "starter", Parent: c.Query("parent"), Province: c.Query("province")}
	code := c.Query("division")
	if tenants.ValidateAdminCode(code) == nil && (form.Province == "" || form.Province == code[:2]) {
		d, err := o.d.Store.FindDivisionByCode(c.UserContext(), code)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err == nil && d.Level != tenants.LevelProvince {
			live, err := o.d.Store.FindTenants(c.UserContext(), tenants.TenantFilter{})
			if err != nil {
				return err
			}
			form.Province, form.Division, form.AdminCode, form.NameZH, form.NameEN, form.Kind = d.Code[:2], d.Code, d.Code, d.NameZH, d.NameEN, string(d.Kind())
			form.Slug = slugFrom(d.NameEN)
			for _, t := range live {
				if t.Kind == tenants.Prefecture && t.AdminCode == d.ParentCode {
					form.Parent = t.Slug
				}
			}
		}
	}
	return o.newTenantPage(c, form, "")
}

// slugFrom suggests a slug from an English name: "Yao'an" → "yaoan".
func slugFrom(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}
