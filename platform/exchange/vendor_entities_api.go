package exchange

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// apiImportEntity is POST /exchange/vendors/:vendor/imports/:entity (tenant admin; entity grids,
// components, departments or staff): the vendor's export of them as the multipart part "file",
// imported with the section of the newest mapping for the entity, or only checked with
// ?dry_run=true. 200 with the report; 422 with every problem when a row failed (nothing written).
func (h *handlers) apiImportEntity(c *fiber.Ctx) error {
	e, err := ParseEntity(strings.Clone(c.Params("entity")))
	if err != nil {
		return err
	}
	file, err := uploadedFile(c)
	if err != nil {
		return err
	}
	rep, err := h.im.ImportEntity(c.UserContext(), file, EntityOptions{Vendor: vendor(c), Entity: e, DryRun: c.QueryBool("dry_run")})
	if err != nil {
		return err
	}
	return sendReport(c, rep)
}
