package app

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// platform holds the city-operation modules every tenant shares. Each reaches tenant data only
// through the store's gate.
type platform struct {
	org      *org.Service
	grids    *grids.Service
	catalog  *catalog.Service
	calendar *calendar.Service
}

func newPlatform(store *tenants.Store) *platform {
	o := org.NewService(store, store.Now)
	g := grids.NewService(store, store.Now)
	return &platform{
		org:      o,
		grids:    g,
		catalog:  catalog.NewService(store, o, g, store.Now),
		calendar: calendar.NewService(store, store.Now),
	}
}

// platformRoutes adds the organisation, grid, catalog, standard and calendar API to the tenant
// group. Reads are open to every member and to read-only scopes (prefecture viewers, support);
// writes need tenant_admin, since configuring them is the county admin's job.
func (a *App) platformRoutes(t fiber.Router) {
	admin := a.needRole(tenants.TenantAdmin)
	p := a.platform

	t.Get("/departments", a.apiListDepartments)
	t.Post("/departments", admin, a.apiCreateDepartment)
	t.Get("/departments/:id", a.apiGetDepartment)
	t.Put("/departments/:id", admin, a.apiUpdateDepartment)
	t.Delete("/departments/:id", admin, a.apiDeleteDepartment)
	t.Get("/staff", a.apiListStaff)
	t.Post("/staff", admin, a.apiCreateStaff)
	t.Get("/staff/:id", a.apiGetStaff)
	t.Put("/staff/:id", admin, a.apiUpdateStaff)
	t.Delete("/staff/:id", admin, a.apiDeleteStaff)

	t.Get("/grids", a.apiListGrids)
	t.Get("/grids.geojson", a.apiExportGrids)
	t.Get("/grids/resolve", a.apiResolveGrid)
	t.Post("/grids/import", admin, a.importHandler([]string{"application/geo+json", "application/json"},
		func(c *fiber.Ctx, data []byte, _ string, dry bool) (*tabular.Report, error) {
			return p.grids.Import(c.UserContext(), data, dry)
		}))
	t.Get("/grids/:code", a.apiGetGrid)
	t.Get("/boundary", a.apiGetBoundary)
	t.Put("/boundary", admin, a.apiPutBoundary)
	t.Delete("/boundary", admin, a.apiDeleteBoundary)
	t.Get("/responsibility-grids", a.apiListResponsibilities)
	t.Put("/responsibility-grids/:code", admin, a.apiPutResponsibility)
	t.Delete("/responsibility-grids/:code", admin, a.apiDeleteResponsibility)

	t.Get("/catalog/classes", a.apiListClasses)
	t.Post("/catalog/classes", admin, a.apiCreateClass)
	t.Post("/catalog/sync", admin, a.apiSyncPrefectureClasses)
	t.Get("/catalog/classes/:kind/:code", a.apiLookupClass)
	t.Delete("/catalog/classes/:kind/:code", admin, a.apiDeleteClass)
	t.Get("/components", a.apiListComponents)
	t.Post("/components/import", admin, a.importHandler([]string{"application/geo+json", "application/json", "text/csv", xlsxType},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			return p.catalog.ImportComponents(c.UserContext(), data, format, dry)
		}))
	t.Get("/components/:code", a.apiGetComponent)
	t.Get("/standards", a.apiListStandards)
	t.Post("/standards/import", admin, a.importHandler([]string{"text/csv", xlsxType},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			return p.catalog.ImportStandards(c.UserContext(), data, tabular.Format(format), dry)
		}))
	t.Get("/standards/:id", a.apiGetStandard)

	t.Get("/calendar", a.apiGetCalendar)
	t.Put("/calendar", admin, a.apiPutCalendar)
	t.Get("/calendar/deadline", a.apiDeadline)
	t.Post("/calendar/import", admin, a.importHandler([]string{"text/csv", xlsxType, "application/json"},
		func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error) {
			year, err := strconv.Atoi(c.Query("year"))
			if err != nil {
				return nil, errs.Field("year", msgGiveYearBeingImportedYear)
			}
			return p.calendar.ImportYear(c.UserContext(), year, data, format, dry)
		}))
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// readUpload returns an uploaded file: the body itself (Content-Type names the format) or the
// part "file" of a multipart form. It returns the format: geojson, json, csv or xlsx.
func readUpload(c *fiber.Ctx, accept []string) ([]byte, string, error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	data := c.Body()
	filename := ""
	if mt == "multipart/form-data" {
		fh, err := c.FormFile("file")
		if err != nil {
			return nil, "", errs.Field("file", msgSendFileFormFieldFile)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, "", errs.Field("file", msgUploadedFileCannotRead)
		}
		defer f.Close()
		if data, err = io.ReadAll(io.LimitReader(f, maxUpload+1)); err != nil {
			return nil, "", errs.Field("file", msgUploadedFileCannotRead)
		}
		filename = strings.ToLower(fh.Filename)
		mt, _, _ = mime.ParseMediaType(fh.Header.Get("Content-Type"))
		switch {
		case strings.HasSuffix(filename, ".csv"):
			mt = "text/csv"
		case strings.HasSuffix(filename, ".xlsx"):
			mt = xlsxType
		case strings.HasSuffix(filename, ".geojson"):
			mt = "application/geo+json"
		case strings.HasSuffix(filename, ".json") && mt != "application/geo+json":
			mt = "application/json"
		}
	}
	if len(data) > maxUpload {
		return nil, "", errs.E(errs.TooLarge, msgFileLargerThanMib, maxUpload>>20)
	}
	if len(data) == 0 {
		return nil, "", errs.E(errs.Invalid, msgFileEmpty)
	}
	if !slices.Contains(accept, mt) {
		return nil, "", errs.E(errs.Unsupported, msgSendFileContentTypeForm, strings.Join(accept, " or "))
	}
	switch mt {
	case "application/geo+json":
		return data, "geojson", nil
	case "application/json":
		if slices.Contains(accept, "application/geo+json") {
			return data, "geojson", nil
		}
		return data, "json", nil
	case xlsxType:
		return data, "xlsx", nil
	}
	return data, "csv", nil
}

// maxUpload bounds one imported file; the server's body limit may be lower.
const maxUpload = 16 << 20

// importHandler serves an all-or-nothing import: 200 with the report when every row passed
// (applied unless ?dry_run=true; the service audits an applied import), 422 with the row-by-row
// problems otherwise.
func (a *App) importHandler(accept []string, run func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		data, format, err := readUpload(c, accept)
		if err != nil {
			return err
		}
		rep, err := run(c, data, format, c.QueryBool("dry_run"))
		var rej *tabular.Rejected
		if errors.As(err, &rej) {
			return importProblem(c, rej.Report)
		}
		if err != nil {
			return err
		}
		return c.JSON(rep)
	}
}

// importProblem renders a rejected import as problem+json with the report's problems as an
// extension member, so clients show each row's error.
func importProblem(c *fiber.Ctx, rep *tabular.Report) error {
	rid, _ := c.Locals("requestid").(string)
	body := struct {
		Problem
		Rows     int               `json:"rows"`
		Problems []tabular.Problem `json:"problems"`
	}{Problem{Type: "urn:cityops:problem:invalid", Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail:   msgImportRejected.In(apiLang(c), len(rep.Problems)),
		Instance: c.OriginalURL(), Code: string(errs.Invalid), RequestID: rid}, rep.Rows, rep.Problems}
	b, _ := json.Marshal(body)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(http.StatusUnprocessableEntity).Send(b)
}
