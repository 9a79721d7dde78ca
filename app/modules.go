package app

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/migrations"
	"github.com/cityops/cityops/platform/analysis"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/guidance"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/notify"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/spf13/cobra"
)

// platformModules is the list of modules that plug in through platform/module: one line each.
// (Open311 is still wired by hand in this package.)
//
// The shared modules serve the platform's services p and the case loop cs, which the console and
// the demo use as well. New reads what the modules declare (names, migrations, meters, templates,
// commands) before the store is open and so before p and cs exist: that reading passes nil, and
// only the list made with the services is built.
func platformModules(p *platform, cs *cases.Service) []module.Module {
	if p == nil {
		p = &platform{}
	}
	return []module.Module{
		cases.Module(cs),
		org.Module(p.org),
		grids.Module(p.grids),
		catalog.Module(p.catalog),
		calendar.Module(p.calendar),
		evaluation.Module(p.evaluation, p.catalog, cs),
		analysis.Module(p.analysis, p.catalog),
		exchange.Module(p.exchange, p.hotline, p.importer),
		monitoring.Module(p.monitoring),
		notify.Module(p.notify),
		guidance.Module(p.guidance),
	}
}

// mountedModule is a module with the parts its Build made.
type mountedModule struct {
	module.Module
	parts module.Parts
}

// checkModules refuses a module list the process cannot mount: a bad or repeated name, an
// entitlement or meter that is not a code, a text missing a language.
func checkModules(list []module.Module) error {
	seen := map[string]bool{}
	for _, m := range list {
		if !module.ValidName(m.Name) || seen[m.Name] {
			return fmt.Errorf("module %q: the name is not valid or is used twice", m.Name)
		}
		seen[m.Name] = true
		if m.Entitlement != "" && !module.ValidName(m.Entitlement) {
			return fmt.Errorf("module %s: entitlement %q is not valid", m.Name, m.Entitlement)
		}
		for _, me := range m.Meters {
			if !module.ValidName(me) {
				return fmt.Errorf("module %s: meter %q is not valid", m.Name, me)
			}
		}
		if m.Build == nil {
			return fmt.Errorf("module %s: no Build", m.Name)
		}
		if !msg.Known(m.Title) {
			return fmt.Errorf("module %s: its title %q is not a declared message", m.Name, m.Title)
		}
		for _, n := range m.Nav {
			if !msg.Known(n.Label) {
				return fmt.Errorf("module %s: the nav label %q is not a declared message", m.Name, n.Label)
			}
		}
	}
	return nil
}

// moduleMigrations are the modules' tenant migrations for dialect, module by module.
func moduleMigrations(list []module.Module, dialect dbx.Dialect) ([]migrations.Migration, error) {
	var out []migrations.Migration
	for _, m := range list {
		if m.Migrations == nil {
			continue
		}
		ms, err := migrations.LoadFS(m.Migrations, string(dialect), m.Name)
		if err != nil {
			return nil, fmt.Errorf("module %s: migrations: %w", m.Name, err)
		}
		out = append(out, ms...)
	}
	return out, nil
}

// moduleCatalog is what the modules add to billing: plan module codes and meters.
func moduleCatalog(list []module.Module) (entitlements, meters []string) {
	for _, m := range list {
		if m.Entitlement != "" && !slices.Contains(entitlements, m.Entitlement) {
			entitlements = append(entitlements, m.Entitlement)
		}
		for _, me := range m.Meters {
			if !slices.Contains(meters, me) {
				meters = append(meters, me)
			}
		}
	}
	return entitlements, meters
}

// mounted are the modules plugged into an App, with the parts their Build made, each behind its
// plan entitlement (billing.Entitled).
type mounted struct {
	list    []mountedModule
	billing *billing.Service
}

// build makes every module's parts, in list order, with k (its Log named per module).
func (ms *mounted) build(list []module.Module, k module.Kit, store *tenants.Store) error {
	log := k.Log
	for _, m := range list {
		k.Log = log.With("module", m.Name)
		parts, err := m.Build(k)
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Name, err)
		}
		for _, c := range m.Commands {
			if name := strings.Fields(c.Use); len(name) == 0 || parts.Run[name[0]] == nil {
				return fmt.Errorf("module %s: command %q has nothing to run", m.Name, c.Use)
			}
		}
		if parts.ExportFiles != nil {
			store.AddExportFiles(parts.ExportFiles)
		}
		if parts.ExportSealed != nil {
			store.AddExportSealed(parts.ExportSealed)
		}
		ms.list = append(ms.list, mountedModule{Module: m, parts: parts})
	}
	return nil
}

// apiRoutes mounts every module's API on the tenant group t, each behind its entitlement.
func (ms *mounted) apiRoutes(t fiber.Router) {
	for _, m := range ms.list {
		if m.parts.API != nil {
			m.parts.API(guarded{t, ms.need(m.Module)})
		}
	}
}

// machineRoutes mounts every module's machine routes (module.Parts.Machine) on the group m,
// /api/v1/ingest/:tenant.
func (ms *mounted) machineRoutes(m fiber.Router) {
	for _, mm := range ms.list {
		if mm.parts.Machine != nil {
			mm.parts.Machine(guarded{r: m})
		}
	}
}

// consoleRoutes mounts every module's pages on the tenant console group tw.
func (ms *mounted) consoleRoutes(tw fiber.Router) {
	for _, m := range ms.list {
		if m.parts.Console != nil {
			m.parts.Console(guarded{tw, ms.need(m.Module)})
		}
	}
}

// guarded is a module's module.Router: each route it adds runs guard first. (Not a fiber group
// with guard as middleware: fiber runs a group's middleware for every later route under the same
// prefix, so one module's check would run for the next module's routes as well.)
type guarded struct {
	r     fiber.Router
	guard fiber.Handler
}

func (g guarded) add(method, path string, hs []fiber.Handler) {
	if g.guard != nil {
		hs = append([]fiber.Handler{g.guard}, hs...)
	}
	g.r.Add(method, path, hs...)
}

func (g guarded) Get(path string, hs ...fiber.Handler) {
	g.add(fiber.MethodHead, path, hs)
	g.add(fiber.MethodGet, path, hs)
}
func (g guarded) Post(path string, hs ...fiber.Handler)   { g.add(fiber.MethodPost, path, hs) }
func (g guarded) Put(path string, hs ...fiber.Handler)    { g.add(fiber.MethodPut, path, hs) }
func (g guarded) Patch(path string, hs ...fiber.Handler)  { g.add(fiber.MethodPatch, path, hs) }
func (g guarded) Delete(path string, hs ...fiber.Handler) { g.add(fiber.MethodDelete, path, hs) }

// need refuses requests to m's routes for a tenant whose plan lacks m (403, naming the plan
// and the module), unless the caller reads the tenant through its prefecture and the
// prefecture's plan has m; nil for a shared free module, which has no entitlement to check.
func (ms *mounted) need(m module.Module) fiber.Handler {
	if m.Entitlement == "" {
		return nil
	}
	return func(c *fiber.Ctx) error {
		sc := scope(c)
		if sc == nil {
			return errs.E(errs.Unauthorized, msgPleaseLogFirst)
		}
		on, e, err := ms.billing.Entitled(c.UserContext(), sc.Tenant, m.Entitlement)
		if err != nil {
			return err
		}
		if !on && sc.Via != nil {
			// A prefecture whose plan has the module reads its counties' through it (the
			// prefecture's evaluation drills down into each county's).
			if on, _, err = ms.billing.Entitled(c.UserContext(), sc.Via, m.Entitlement); err != nil {
				return err
			}
		}
		if !on {
			l := console.Lang(c)
			if isAPI(c) {
				l = module.APILang(c)
			}
			return errs.E(errs.Forbidden, msgModuleNotPlanOperatingCompany,
				msg.TextOf(l, m.Title), e.Plan.Name(l), sc.Tenant.Name(l))
		}
		return c.Next()
	}
}

// nav are the links of the modules sc's tenant has, for the console's navigation.
func (ms *mounted) nav(ctx context.Context, sc *tenants.Scope) []console.NavItem {
	var out []console.NavItem
	for _, m := range ms.list {
		if len(m.Nav) == 0 {
			continue
		}
		if m.Entitlement != "" {
			if on, _, err := ms.billing.Entitled(ctx, sc.Tenant, m.Entitlement); err != nil || !on {
				continue
			}
		}
		for _, n := range m.Nav {
			if len(n.Roles) == 0 || sc.Has(n.Roles...) {
				item := console.NavItem{Href: "/t/" + sc.Tenant.Slug + n.Path, Key: n.Label}
				if n.Count != nil {
					if c, err := n.Count(ctx); err == nil && c > 0 {
						item.Count = c
					}
				}
				out = append(out, item)
			}
		}
	}
	return out
}

// loops are the modules' background loops (module.Parts.Background), named "<module> <loop>",
// for the server's runner.
func (ms *mounted) loops() []loop {
	var out []loop
	for _, m := range ms.list {
		for _, l := range m.parts.Background {
			out = append(out, loop{name: m.Name + " " + l.Name, run: func(ctx context.Context) error { l.Run(ctx); return nil }, perReplica: l.PerReplica})
		}
	}
	return out
}

// seed gives a demo tenant each module's sample data.
func (ms *mounted) seed(ctx context.Context, t *tenants.Tenant) error {
	for _, m := range ms.list {
		if m.parts.Demo != nil {
			if err := m.parts.Demo(ctx, t); err != nil {
				return fmt.Errorf("demo data of module %s: %w", m.Name, err)
			}
		}
	}
	return nil
}

// moduleCommands are the command-line commands of mods, "cityops <module> <command> ...". Each
// opens the App (with extra, as newRootCommand got them), brings the control schema up to date
// and runs the function the module's Build gave for the command.
func moduleCommands(mods, extra []module.Module, stdout, stderr io.Writer) []*cobra.Command {
	var out []*cobra.Command
	for _, m := range mods {
		if len(m.Commands) == 0 {
			continue
		}
		group := &cobra.Command{Use: m.Name, Short: msg.TextOf(msg.EN, m.Title) + " (" + msg.TextOf(msg.ZH, m.Title) + ")"}
		for _, mc := range m.Commands {
			name := strings.Fields(mc.Use)[0]
			cmd := &cobra.Command{Use: mc.Use, Short: mc.Short, Args: cobra.ExactArgs(mc.Args),
				RunE: func(c *cobra.Command, args []string) error {
					for _, fl := range mc.Flags {
						args = append(args, c.Flags().Lookup(fl.Name).Value.String())
					}
					a, err := openApp(c.Context(), stderr, extra...)
					if err != nil {
						return err
					}
					defer a.Close()
					if _, err := a.store.MigrateControl(c.Context()); err != nil {
						return err
					}
					for _, mm := range a.modules.list {
						if mm.Name == m.Name {
							if run := mm.parts.Run[name]; run != nil {
								return run(c.Context(), args, stdout)
							}
						}
					}
					return fmt.Errorf("module %s has no command %s", m.Name, name)
				}}
			for _, fl := range mc.Flags {
				if fl.Bool {
					cmd.Flags().Bool(fl.Name, false, fl.Usage)
				} else {
					cmd.Flags().String(fl.Name, "", fl.Usage)
				}
			}
			group.AddCommand(cmd)
		}
		out = append(out, group)
	}
	return out
}
