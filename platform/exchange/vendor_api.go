package exchange

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// vendor is the request's vendor name, copied out of fiber's buffer.
func vendor(c *fiber.Ctx) string { return strings.Clone(c.Params("vendor")) }

// apiMapping is GET /exchange/vendors/:vendor/mapping (?version= an older one).
func (h *handlers) apiMapping(c *fiber.Ctx) error {
	v, err := intQuery(c, "version", 0, func(v string) error { return errs.Field("version", msgVendorVersion, v) })
	if err != nil {
		return err
	}
	m, err := h.im.FindMapping(c.UserContext(), vendor(c), int(v))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// apiPutMapping is PUT /exchange/vendors/:vendor/mapping (tenant admin): checks the mapping and
// saves it as the vendor's next version.
func (h *handlers) apiPutMapping(c *fiber.Ctx) error {
	var m Mapping
	if err := module.DecodeJSON(c, &m); err != nil {
		return err
	}
	v := vendor(c)
	if m.Vendor == "" {
		m.Vendor = v
	}
	if m.Vendor != v {
		return errs.Field("vendor", msgVendorPathBody, textutil.Truncate(m.Vendor, 40), textutil.Truncate(v, 40))
	}
	saved, err := h.im.PutMapping(c.UserContext(), &m)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

// apiImport is POST /exchange/vendors/:vendor/imports (tenant admin): the vendor's export as the
// multipart part "file" (.csv, .xlsx or .json, at most module.MaxUpload), imported with the
// newest mapping, or only checked with ?dry_run=true. 200 with the report; 422 with every
// problem when a record could not be mapped (nothing written).
func (h *handlers) apiImport(c *fiber.Ctx) error {
	file, err := uploadedFile(c)
	if err != nil {
		return err
	}
	rep, err := h.im.Import(c.UserContext(), file, ImportOptions{Vendor: vendor(c), DryRun: c.QueryBool("dry_run")})
	if err != nil {
		return err
	}
	return sendReport(c, rep)
}

// uploadedFile is the request's multipart part "file" (.csv, .xlsx or .json, at most
// module.MaxUpload), read into memory.
func uploadedFile(c *fiber.Ctx) (VendorFile, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return VendorFile{}, errs.Field("file", msgVendorUpload)
	}
	name := strings.Clone(fh.Filename)
	if strings.ContainsRune(name, 0) || !utf8.ValidString(name) {
		return VendorFile{}, errs.Field("file", msgVendorUpload)
	}
	format, err := VendorFormatOf(name)
	if err != nil {
		return VendorFile{}, err
	}
	f, err := fh.Open()
	if err != nil {
		return VendorFile{}, errs.Field("file", msgVendorUpload)
	}
	data, err := io.ReadAll(io.LimitReader(f, module.MaxUpload+1))
	f.Close()
	if err != nil {
		return VendorFile{}, errs.Field("file", msgVendorUpload)
	}
	if err := module.CheckUploadSize(data); err != nil {
		return VendorFile{}, err
	}
	return VendorFile{Name: name, Format: format, Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}, nil
}

// sendReport answers with an import's report: 200, or 422 with every problem when a record could
// not be mapped (nothing written).
func sendReport(c *fiber.Ctx, rep *ImportReport) error {
	if !rep.OK() {
		return module.SendProblem(c, http.StatusUnprocessableEntity, struct {
			module.Problem
			*ImportReport
		}{rejected(c, rep.Summary(module.APILang(c))), rep})
	}
	return c.JSON(rep)
}

// rejected is the problem of a file or pull refused because records could not be mapped (422),
// which the report it answers with carries beside.
func rejected(c *fiber.Ctx, detail string) module.Problem {
	rid, _ := c.Locals("requestid").(string)
	return module.Problem{Type: "urn:cityops:problem:" + string(errs.Invalid), Title: http.StatusText(http.StatusUnprocessableEntity),
		Status: http.StatusUnprocessableEntity, Detail: detail, Instance: c.OriginalURL(), Code: string(errs.Invalid), RequestID: rid}
}

// apiRuns is GET /exchange/imports: the tenant's import runs, newest first.
func (h *handlers) apiRuns(c *fiber.Ctx) error {
	runs, err := h.im.FindRuns(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(runs)
}
