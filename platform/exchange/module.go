package exchange

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
)

// Entitlement is the plan module code that unlocks the exchange.
const Entitlement = "exchange"

//go:embed templates openapi.json migrations
var files embed.FS

// Module is the exchange's registration: its tables and triggers (tenant migrations
// exchange.0001, and exchange.0002 for the hotline's work orders and class mapping), its API
// (/exchange/…), its page (/exchange: the county's destinations, or a prefecture's counties
// too), the operator's page template (exchange/ops, served by the operator console), its
// commands and the delivery loop. Plans sell it (Entitlement); members and the prefecture read
// it, the tenant's admins change it. With h, it takes the 12345 hotline's work orders in (POST
// /exchange/hotline/work-orders and the satisfaction PUT, by the acceptor's post: the hotline's
// system signs in with an API token of a member who holds it). With im, it imports the history of
// the systems a county ran before, and their departments, grids, components and staff (tenant
// migrations exchange.0003 and exchange.0005; docs/exchange.md, "Vendor import"): the mappings'
// and import runs' API, the commands import, dry-run, pull, export and export-clear, the API
// pulls (POST /exchange/vendors/{vendor}/pulls), the exports in a vendor's shape (POST
// …/exports), and the page /exchange/vendors (its mapping editor and background imports;
// migration exchange.0004).
func Module(s *Service, h *Hotline, im *Importer) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "exchange",
		Entitlement: Entitlement,
		Title:       msgTitle.ID(),
		Templates:   tpl,
		Migrations:  migs,
		OpenAPI:     api,
		Nav: []module.Nav{{Path: "/exchange", Label: "exchange.nav", Roles: []tenants.Role{tenants.TenantAdmin, tenants.Leader, tenants.PrefectureViewer}},
			{Path: "/exchange/vendors", Label: "exchange.vendors.nav", Roles: []tenants.Role{tenants.TenantAdmin, tenants.Leader, tenants.PrefectureViewer}}},
		Commands: []module.Command{
			{Use: "status <tenant>", Short: "the tenant's destinations: backlog, failures, last delivery", Args: 1},
			{Use: "destination <tenant> <code> <url>", Short: "make or change a destination (its token: cityops credentials set <tenant> exchange_<code>)", Args: 3},
			{Use: "replay <tenant> <code> <from> <to>", Short: "send the case events of a date range again (dates in China time, both included)", Args: 4},
			{Use: "retry <tenant> <code>", Short: "send a destination's dead items again", Args: 2},
			{Use: "deliver <tenant>", Short: "deliver what is due now, once (the server's loop does this every second)", Args: 1},
			{Use: "hotline-class <tenant> <category> <kind> <code>", Short: "map a 12345 hotline category (* for the default) to a minor class (component|event, 4 digits)", Args: 4},
			{Use: "import <tenant> <mapping.json> <file>", Short: "import a vendor's export (CSV, XLSX or JSON) with a mapping (saved as its next version when changed); a run cut short continues", Args: 3, Flags: entityFlag},
			{Use: "export <tenant> <vendor> <file>", Short: "write every case of the tenant in a vendor's shape (.csv, .xlsx or .json, by the mapping read backwards); reporters' personal data left out", Args: 3},
			{Use: "export-clear <tenant> <vendor> <file> <reason>", Short: "the same with the reporters' personal data decrypted (the reason is audited)", Args: 4},
			{Use: "dry-run <tenant> <mapping.json> <file>", Short: "map a vendor's export and report what an import would do and every value it cannot map, writing nothing but the mapping", Args: 3, Flags: entityFlag},
			{Use: "pull <tenant> <mapping.json>", Short: "pull a vendor's records from its API (the mapping's pull section; its credential: cityops credentials set <tenant> vendor_<vendor>) and import them; a run cut short continues", Args: 2,
				Flags: []module.Flag{{Name: "from", Usage: "pull records from this date (2006-01-02, China time) or RFC 3339 time"},
					{Name: "to", Usage: "pull records up to this date (included) or RFC 3339 time"},
					{Name: "dry-run", Usage: "report what the import would do, writing nothing but the mapping", Bool: true}}},
		},
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, fmt.Errorf("exchange: no service")
			}
			hs := &handlers{s: s, hotline: h, im: im, k: k}
			admin := module.NeedRole(tenants.TenantAdmin)
			return module.Parts{
				API: func(r module.Router) {
					r.Get("/exchange/destinations", hs.apiDestinations)
					r.Get("/exchange/destinations/:code", hs.apiDestination)
					r.Put("/exchange/destinations/:code", admin, hs.apiPutDestination)
					r.Delete("/exchange/destinations/:code", admin, hs.apiDeleteDestination)
					r.Get("/exchange/destinations/:code/log", hs.apiLog)
					r.Get("/exchange/destinations/:code/items", hs.apiItems)
					r.Post("/exchange/destinations/:code/replay", admin, hs.apiReplay)
					r.Post("/exchange/destinations/:code/retry", admin, hs.apiRetry)
					r.Get("/exchange/units", hs.apiUnits)
					if h != nil {
						acceptor := module.NeedRole(tenants.Acceptor)
						r.Post("/exchange/hotline/work-orders", acceptor, hs.apiWorkOrder)
						r.Get("/exchange/hotline/work-orders/:number", hs.apiFindWorkOrder)
						r.Put("/exchange/hotline/work-orders/:number/satisfaction", acceptor, hs.apiSatisfaction)
					}
					if im != nil {
						r.Get("/exchange/vendors/:vendor/mapping", hs.apiMapping)
						r.Put("/exchange/vendors/:vendor/mapping", admin, hs.apiPutMapping)
						r.Post("/exchange/vendors/:vendor/imports", admin, hs.apiImport)
						r.Post("/exchange/vendors/:vendor/pulls", admin, hs.apiPull)
						r.Post("/exchange/vendors/:vendor/imports/:entity", admin, hs.apiImportEntity)
						r.Get("/exchange/imports", hs.apiRuns)
						r.Post("/exchange/vendors/:vendor/exports", admin, hs.apiExport)
					}
				},
				Console: func(r module.Router) {
					r.Get("/exchange", hs.page)
					r.Post("/exchange/destinations", admin, hs.putForm)
					r.Post("/exchange/destinations/:code/replay", admin, hs.replayForm)
					r.Post("/exchange/destinations/:code/retry", admin, hs.retryForm)
					r.Post("/exchange/destinations/:code/delete", admin, hs.deleteForm)
					if im != nil {
						vp := &vendorPages{im: im, k: k, samples: newSamples(k.Now)}
						r.Get("/exchange/vendors", vp.list)
						r.Post("/exchange/vendors/sample", admin, vp.upload)
						r.Get("/exchange/vendors/:vendor/edit", admin, vp.edit)
						r.Post("/exchange/vendors/:vendor/edit", admin, vp.editorForm)
						r.Post("/exchange/vendors/:vendor/run", admin, vp.run)
						r.Post("/exchange/vendors/entities", admin, vp.importEntity)
					}
				},
				Run:        commands(s, h, im, k),
				Background: []module.Loop{{Name: "delivery", Run: func(ctx context.Context) { s.Run(ctx, k, PassInterval) }}},
			}, nil
		},
	}
}

// commands are the module's command-line commands; each acts on a tenant named by its slug with
// the platform's own (system) scope, and is audited like the console's.
func commands(s *Service, h *Hotline, im *Importer, k module.Kit) map[string]func(ctx context.Context, args []string, out io.Writer) error {
	in := func(ctx context.Context, slug string) (context.Context, error) {
		t, err := k.Store.FindTenantBySlug(ctx, slug)
		if err != nil {
			return nil, err
		}
		return tenants.WithScope(ctx, tenants.SystemScope(t)), nil
	}
	return map[string]func(ctx context.Context, args []string, out io.Writer) error{
		"status": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			ds, err := s.FindDestinations(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tHEALTH\tPENDING\tRETRYING\tDEAD\tDELIVERED\tLAST DELIVERY\tLAST ERROR\tURL")
			for _, d := range ds {
				last := "-"
				if d.LastSuccessAt != nil {
					last = d.LastSuccessAt.In(clock.China).Format(time.DateTime)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", d.Code, d.Health(), d.Backlog.Pending, d.Backlog.Retrying,
					d.Backlog.Dead, d.DeliveredTotal, last, strings.ReplaceAll(d.LastError, "\t", " "), d.URL)
			}
			return tw.Flush()
		},
		"destination": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			d, err := s.PutDestination(ctx, args[1], DestinationInput{URL: args[2]})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%s → %s (%s), enabled: %t\n", d.Code, d.URL, d.Profile, d.Enabled)
			return err
		},
		"replay": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			res, err := s.Replay(ctx, args[1], ReplayInput{From: args[2], To: args[3]})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "queued %d case events\n", res.Queued[ReplayCases])
			return err
		},
		"retry": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			n, err := s.RetryDead(ctx, args[1], nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "queued %d dead items again\n", n)
			return err
		},
		"hotline-class": func(ctx context.Context, args []string, out io.Writer) error {
			if h == nil {
				return fmt.Errorf("exchange: no hotline")
			}
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			if err := h.PutClass(ctx, args[1], catalog.Kind(args[2]), args[3]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "hotline category %s → %s %s\n", args[1], args[2], args[3])
			return err
		},
		"import": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			return importCommand(ctx, im, args[1], args[2], flagArg(args, 3), false, out)
		},
		"pull": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			return pullCommand(ctx, im, args[1], args[2], args[3], args[4] == "true", out)
		},
		"dry-run": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			return importCommand(ctx, im, args[1], args[2], flagArg(args, 3), true, out)
		},
		"export": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			return exportCommand(ctx, im, args[1], args[2], "", out)
		},
		"export-clear": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			return exportCommand(ctx, im, args[1], args[2], args[3], out)
		},
		"deliver": func(ctx context.Context, args []string, out io.Writer) error {
			ctx, err := in(ctx, args[0])
			if err != nil {
				return err
			}
			st, err := s.Deliver(ctx, 0)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%d batches: %d delivered, %d refused, %d failed as a whole\n", st.Batches, st.Delivered, st.Refused, st.Failed)
			return err
		},
	}
}
