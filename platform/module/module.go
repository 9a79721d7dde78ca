// Package module is how a city-operation module plugs into the platform.
//
// A module is a package under platform/ that owns its domain rules and its store code. It
// describes itself once, in a Module value: its name, the plan entitlement that unlocks it, the
// meters it records, its console templates, texts and OpenAPI operations, and a Build function
// that makes its running parts (API routes, console pages, CLI commands, demo data) from the
// platform's services (Kit). The composition root (package app) lists the modules, one line
// each, and mounts them:
//
//   - its API under /api/v1/t/{tenant} and its pages under /t/{tenant}, behind the tenant scope
//     and, for a module a plan sells, behind the entitlement check: a tenant whose plan lacks the
//     module gets a 403 that names the plan, and does not see its links;
//   - its machine routes (Parts.Machine: callers that are no members, such as field devices
//     with tokens of their own) under /api/v1/ingest/{tenant}, with no login and no tenant scope;
//   - its nav entries in the tenant console, its templates inside the console layout;
//   - its meters in billing's catalogue, so plans may price them and Usage accepts them;
//   - its OpenAPI paths in the served document, its commands under the command line;
//   - its background loops (Parts.Background) with the server's own: started when the server
//     starts serving, restarted after a failure, cancelled and awaited on shutdown.
//
// So adding a module is its own folder plus one line in app's module list (and a plan that
// sells it). See platform/module/moduletest for a complete small module used by the tests.
package module

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"regexp"
	"time"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

// Module is one module's registration.
type Module struct {
	// Name is the module's code: lower-case letters, digits and underscores ("grids",
	// "evaluation"). It prefixes its templates and message ids.
	Name string
	// Entitlement is the plan module code that unlocks the module. Empty for a shared free
	// module, which every tenant has whatever its plan.
	Entitlement string
	// Title is the id of the message (internal/msg) naming the module, shown in refusals and in
	// the plan's list. The module declares its texts with msg.New or msg.Define, ids starting
	// with its name and a dot.
	Title string
	// Meters are the usage meters the module records (billing's built-in ones or its own).
	Meters []string
	// Templates holds the module's console pages (*.html, rendered inside the console layout by
	// Kit.Pages under the name "<module>/<file name without .html>") and the partials its pages
	// share (partials/*.html, templates named "<module>.<name>").
	Templates fs.FS
	// OpenAPI is the module's part of the API document: a JSON object with "paths" relative to
	// /api/v1 (every path under /t/{tenant}, or /ingest/{tenant} for its machine routes) and
	// optionally "components"/"schemas".
	OpenAPI []byte
	// Nav are the module's links in the tenant console.
	Nav []Nav
	// Commands are the module's command-line commands, "cityops <module> <command> ...". Each
	// runs the function of its name in Parts.Run.
	Commands []Command
	// Migrations holds the module's tenant migrations: postgres/*.sql and sqlite/*.sql, applied
	// in every tenant after the platform's own (versions "<module>.<file name>"). On PostgreSQL
	// the prefecture's read-only role may read the tables they create.
	Migrations fs.FS
	// Build makes the module's running parts from the platform's services. It is called once,
	// when the process starts.
	Build func(k Kit) (Parts, error)
}

// Nav is one link of the tenant console's navigation.
type Nav struct {
	// Path is below /t/{tenant}, for example "/evaluation".
	Path string
	// Label is the id of the message (internal/msg) of the link's text.
	Label string
	// Roles admit the link to people holding one of them; none shows it to every member.
	Roles []tenants.Role
	// Count, when set, is a number shown beside the link (unread notifications, say). It runs
	// with the caller's scope on every console page that shows the link, so it must be cheap;
	// zero or an error shows nothing.
	Count func(ctx context.Context) (int, error)
}

// Command is one command-line command of a module.
type Command struct {
	// Use is cobra's usage line: the command's name, then its arguments ("post <tenant> <text>").
	Use string
	// Short is its one line of help.
	Short string
	// Args is how many arguments it takes.
	Args int
	// Flags are its optional flags (--name value, or --name alone for a Bool one); their values
	// are handed to the command after its arguments, in this order ("" when not given, "true" or
	// "false" for a Bool one).
	Flags []Flag
}

// Flag is an optional flag of a command.
type Flag struct {
	Name  string
	Usage string
	Bool  bool
}

// Parts are what a module runs. Every field is optional.
type Parts struct {
	// API mounts the module's JSON API on r, the group /api/v1/t/:tenant: the caller is logged
	// in, the tenant scope is resolved (read-only scopes may only read) and the entitlement
	// checked.
	API func(r Router)
	// Console mounts the module's pages on r, the group /t/:tenant, with the same checks and the
	// console's CSRF check.
	Console func(r Router)
	// Machine mounts routes for machines that are no members (a module's field devices) on r,
	// the group /api/v1/ingest/:tenant: no login, no session, no tenant scope and no entitlement
	// check run first, and a bearer token is not taken for an API token. The module
	// authenticates the caller itself, resolves the tenant from the path and checks its plan
	// (Kit.Entitled).
	Machine func(r Router)
	// Run holds the module's commands (Module.Commands), by name: each gets its arguments and
	// writes its result to out.
	Run map[string]func(ctx context.Context, args []string, out io.Writer) error
	// Demo fills a demo tenant with the module's sample data.
	Demo func(ctx context.Context, t *tenants.Tenant) error
	// ExportFiles adds the files the module keeps outside the database to every tenant export
	// (and so to offboarding). Its tables are in the export already: every table of the tenant is.
	ExportFiles tenants.ExportFiles
	// ExportSealed names the module's columns that hold personal data encrypted with the
	// tenant's key, and decrypts them: an export with personal data in clear writes them as
	// plain columns, and offboarding waits for such an export (or a waiver) while any is stored.
	ExportSealed tenants.ExportSealed
	// Storage is how many bytes the module keeps for t outside the tenant's database (files);
	// the daily storage sample adds it to the database's size.
	Storage func(ctx context.Context, t *tenants.Tenant) (int64, error)
	// Background are the module's loops, which run with the server (not with the command line
	// or the tests' App): see Loop.
	Background []Loop
}

// Loop is one of a module's background jobs. Run works until ctx ends and then returns; the
// composition root starts it when the server starts, runs it again after a backoff if it returns
// early or panics, and cancels and awaits it on shutdown. Each pass should recompute what it does
// from the database (tasks.Every is the usual shape), so a loop stopped anywhere, or taken over
// by another replica, loses and doubles nothing. With several replicas it runs on one of them
// at a time (the holder of its lease in the control database), unless PerReplica. A loop
// working on every tenant iterates
// them itself (Kit.Store FindTenants) and skips those whose plan lacks the module (Kit.Entitled).
type Loop struct {
	// Name names the loop in logs, after the module's name ("evaluation bulletins").
	Name string
	Run  func(ctx context.Context)
	// PerReplica runs the loop on every replica: work on the process's own things (its
	// connections, local files, child processes). Without it the loop runs once across the
	// replicas, on the one holding its lease (another takes over when that one stops).
	PerReplica bool
}

// Router is where a module adds its routes; paths are relative to the group (/api/v1/t/:tenant
// or /t/:tenant). Every route runs behind the module's checks, and only its own routes do.
type Router interface {
	Get(path string, handlers ...fiber.Handler)
	Post(path string, handlers ...fiber.Handler)
	Put(path string, handlers ...fiber.Handler)
	Patch(path string, handlers ...fiber.Handler)
	Delete(path string, handlers ...fiber.Handler)
}

// Kit is what the platform hands a module's Build.
type Kit struct {
	Store *tenants.Store
	Log   *slog.Logger
	Now   func() time.Time
	// Usage records the module's meters.
	Usage Usage
	// Pages renders the module's templates inside the console layout.
	Pages Pages
	// Entitled reports whether t's plan has the module whose entitlement is named (the check
	// the module's routes run behind), for work done outside a request: a background loop over
	// every tenant skips those without the module.
	Entitled func(ctx context.Context, t *tenants.Tenant, entitlement string) (bool, error)
	// PDFFont is the path of the TrueType font (with CJK glyphs) that PDF documents are set in
	// (CITYOPS_PDF_FONT). It is read when a document is made, so a missing font refuses that
	// document only.
	PDFFont string
	// Metrics is where the module registers its Prometheus collectors (served on /metrics); nil
	// when nothing is exposed (tests).
	Metrics prometheus.Registerer
	// Limits returns the storage of a rate limiter (fiber's limiter middleware) named prefix:
	// shared by the replicas when the deployment has Redis, else the process's memory. Nil in
	// tests that set up no server.
	Limits func(prefix string) fiber.Storage
	// Quota reports t's use of meter in the current month against its plan (nil in tests that
	// have no billing). Quotas never block anything: a module warns with it.
	Quota func(ctx context.Context, t *tenants.Tenant, meter string) (Quota, error)
}

// Quota is a tenant's use of one meter in the current month against its plan.
type Quota struct {
	Meter string `json:"meter"`
	// Used is the month's quantity so far; Included what the plan includes (0: none, every
	// unit is billed at the plan's price, or the meter is not priced).
	Used     int64 `json:"used"`
	Included int64 `json:"included"`
	// Over is set once Used passes Included; the overage is billed (OverageFen), never refused.
	Over       bool  `json:"over"`
	OverageFen int64 `json:"overage_fen"`
}

// Usage records usage for billing. Record never refuses over-quota usage and is idempotent by
// key: record the event with a key naming what caused it.
type Usage interface {
	Record(ctx context.Context, tenant uuid.UUID, meter string, quantity int64, idempotencyKey string) error
}

// Pages renders console pages: page is "<module>/<template>", data the page's fields (the
// layout adds the language, the tenant, the scope and the navigation).
type Pages interface {
	Render(c *fiber.Ctx, page string, data fiber.Map) error
	// Lang is the language the console shows c's page in (msg.ZH or msg.EN), for the texts a
	// module puts in its page data.
	Lang(c *fiber.Ctx) string
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{1,39}$`)

// ValidName reports whether name may name a module or an entitlement.
func ValidName(name string) bool { return nameRe.MatchString(name) }

// Shared is the registration of a shared free module (no entitlement) whose service the
// composition root builds: its name, title, OpenAPI fragment and API routes. A registration made
// without the service (serving false: the composition root reads what modules declare before the
// services exist) refuses to be built, so it can never be mounted.
func Shared(name string, title *msg.Message, openAPI []byte, serving bool, routes func(k Kit, r Router)) Module {
	return Module{
		Name:    name,
		Title:   title.ID(),
		OpenAPI: openAPI,
		Build: func(k Kit) (Parts, error) {
			if !serving {
				return Parts{}, fmt.Errorf("%s: no service to serve", name)
			}
			return Parts{API: func(r Router) { routes(k, r) }}, nil
		},
	}
}
