package console

import (
	"strings"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// The county admin's data export (/t/:tenant/admin/export): the export as stored, the export
// with citizens' personal data in clear (a reason is required; audited) and, before offboarding,
// the waiver of it. The downloads are the API's (api.SendExport), the rules the store's.

// exportPage shows the downloads and where the tenant stands before offboarding.
func (p *adminPages) exportPage(c *fiber.Ctx, data fiber.Map) error {
	h, err := p.Store.FindHandover(c.UserContext(), module.Scope(c).Tenant)
	if err != nil {
		return err
	}
	data["Handover"] = h
	return p.UI.Render(c, "admin_export", data)
}

// download answers with the export as stored (personal data as ciphertext).
func (p *adminPages) download(c *fiber.Ctx) error {
	return api.SendExport(c, p.Store, module.Scope(c).Tenant, tenants.ExportOptions{}, p.ExportDir)
}

// exportClear answers the form with the export in clear; a refusal (no reason, the key service
// down) shows the page again with the message and the reason typed.
func (p *adminPages) exportClear(c *fiber.Ctx) error {
	reason := formReason(c)
	err := api.SendExport(c, p.Store, module.Scope(c).Tenant, tenants.ExportOptions{PersonalData: tenants.PersonalDataClear, Reason: reason}, p.ExportDir)
	if err != nil {
		return adminFail(c, err, p.exportPage, fiber.Map{"Reason": reason})
	}
	return nil
}

// waive records the waiver of the export in clear.
func (p *adminPages) waive(c *fiber.Ctx) error {
	_, err := p.Store.WaiveHandover(c.UserContext(), module.Scope(c).Tenant, formReason(c))
	return adminFinish(c, err, p.exportPage, nil, "/export", "export.msg.waived")
}

// formReason is the form's reason, a copy of its own. The edge (checkInput) refused a NUL or
// another control character in it already; the store checks the rest.
func formReason(c *fiber.Ctx) string { return strings.Clone(c.FormValue("reason")) }
