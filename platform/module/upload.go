package module

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/gofiber/fiber/v2"
)

// XLSXType is the media type of an Excel workbook (.xlsx).
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// MaxUpload bounds one uploaded file (an import, a boundary, a photo); the server's body limit
// may be lower.
const MaxUpload = 16 << 20

// ReadUpload returns an uploaded file: the body itself (Content-Type names the format) or the
// part "file" of a multipart form, whose file name's extension names it. accept lists the media
// types taken. It returns the format: geojson, json, csv or xlsx (application/json is geojson
// where application/geo+json is accepted).
func ReadUpload(c *fiber.Ctx, accept []string) ([]byte, string, error) {
	mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	data := c.Body()
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
		if data, err = io.ReadAll(io.LimitReader(f, MaxUpload+1)); err != nil {
			return nil, "", errs.Field("file", msgUploadedFileCannotRead)
		}
		filename := strings.ToLower(fh.Filename)
		mt, _, _ = mime.ParseMediaType(fh.Header.Get("Content-Type"))
		switch {
		case strings.HasSuffix(filename, ".csv"):
			mt = "text/csv"
		case strings.HasSuffix(filename, ".xlsx"):
			mt = XLSXType
		case strings.HasSuffix(filename, ".geojson"):
			mt = "application/geo+json"
		case strings.HasSuffix(filename, ".json") && mt != "application/geo+json":
			mt = "application/json"
		}
	}
	if err := CheckUploadSize(data); err != nil {
		return nil, "", err
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
	case XLSXType:
		return data, "xlsx", nil
	}
	return data, "csv", nil
}

// CheckUploadSize refuses an uploaded file larger than MaxUpload, or empty.
func CheckUploadSize(data []byte) error {
	if len(data) > MaxUpload {
		return errs.E(errs.TooLarge, msgFileLargerThanMib, MaxUpload>>20)
	}
	if len(data) == 0 {
		return errs.E(errs.Invalid, msgFileEmpty)
	}
	return nil
}

// Importer imports an uploaded file of format (geojson, json, csv or xlsx), all or nothing: it
// checks every row and, unless dry, applies the file when every row passed (the service audits
// an applied import). A file with a bad row is refused with a *tabular.Rejected error.
type Importer func(c *fiber.Ctx, data []byte, format string, dry bool) (*tabular.Report, error)

// Import serves an all-or-nothing import of a file of one of the media types accept: 200 with
// the report when every row passed (applied unless ?dry_run=true), 422 with the row-by-row
// problems otherwise.
func Import(accept []string, run Importer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		data, format, err := ReadUpload(c, accept)
		if err != nil {
			return err
		}
		rep, err := run(c, data, format, c.QueryBool("dry_run"))
		var rej *tabular.Rejected
		if errors.As(err, &rej) {
			return ImportProblem(c, rej.Report)
		}
		if err != nil {
			return err
		}
		return c.JSON(rep)
	}
}

// ImportProblem answers a rejected import with a problem whose extension members are the
// report's rows and problems, so clients show each row's error (for a module's import handler
// that answers more than the report, and so does not use Import).
func ImportProblem(c *fiber.Ctx, rep *tabular.Report) error {
	rid, _ := c.Locals("requestid").(string)
	return SendProblem(c, http.StatusUnprocessableEntity, struct {
		Problem
		Rows     int               `json:"rows"`
		Problems []tabular.Problem `json:"problems"`
	}{Problem{Type: "urn:cityops:problem:" + string(errs.Invalid), Title: http.StatusText(http.StatusUnprocessableEntity), Status: http.StatusUnprocessableEntity,
		Detail:   msgImportRejected.In(APILang(c), len(rep.Problems)),
		Instance: c.OriginalURL(), Code: string(errs.Invalid), RequestID: rid}, rep.Rows, rep.Problems})
}
