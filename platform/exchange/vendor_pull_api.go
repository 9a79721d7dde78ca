package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// apiPull is POST /exchange/vendors/:vendor/pulls (tenant admin): pulls the vendor's records from
// its API as the newest mapping's pull section says (?from= and ?to=, a date or an RFC 3339
// time, bound the window) and imports them, or only checks them with ?dry_run=true. 200 with the
// report and what was pulled; 422 with every problem when a record could not be mapped (nothing
// written); 502 when the vendor's server failed, naming the page and its answer.
func (h *handlers) apiPull(c *fiber.Ctx) error {
	from, err := ParseWindowTime("from", strings.Clone(c.Query("from")), false)
	if err != nil {
		return err
	}
	to, err := ParseWindowTime("to", strings.Clone(c.Query("to")), true)
	if err != nil {
		return err
	}
	rep, err := h.im.Pull(c.UserContext(), PullOptions{Vendor: vendor(c), From: from, To: to, DryRun: c.QueryBool("dry_run")})
	if err != nil {
		return err
	}
	if !rep.OK() {
		return module.SendProblem(c, http.StatusUnprocessableEntity, struct {
			module.Problem
			*PullReport
		}{rejected(c, rep.Summary(module.APILang(c))), rep})
	}
	return c.JSON(rep)
}

// pullCommand is "cityops exchange pull <tenant> <mapping.json> [--from] [--to] [--dry-run]": it
// saves the mapping when it changed, pulls and imports (or dry-runs) the vendor's records with a
// progress bar on a terminal, and prints what was pulled and the report.
func pullCommand(ctx context.Context, im *Importer, mappingFile, from, to string, dry bool, out io.Writer) error {
	if im == nil {
		return errors.New("exchange: no importer")
	}
	f, err := ParseWindowTime("from", from, false)
	if err != nil {
		return err
	}
	t, err := ParseWindowTime("to", to, true)
	if err != nil {
		return err
	}
	m, err := loadMapping(ctx, im, mappingFile, out)
	if err != nil {
		return err
	}
	opts := PullOptions{Vendor: m.Vendor, MappingVersion: m.Version, From: f, To: t, DryRun: dry}
	var finish func()
	opts.Progress, finish = progressBar(out)
	rep, err := im.Pull(ctx, opts)
	finish()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, pullCommandText(rep))
	return printReport(out, rep.ImportReport)
}

// pullCommandText is the command's description of a pull (for its report).
func pullCommandText(rep *PullReport) string {
	s := rep.Pull
	out := fmt.Sprintf("pulled %d records (%d pages, %d bytes", s.Pulled, s.Pages, s.Bytes)
	if s.Duplicates > 0 {
		out += fmt.Sprintf(", %d sent twice", s.Duplicates)
	}
	if s.Retries > 0 {
		out += fmt.Sprintf(", %d requests tried again", s.Retries)
	}
	return out + ") from " + s.Source
}
