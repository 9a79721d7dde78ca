// Package app is the process and its composition root: configuration, New (config → store →
// secrets, billing → the platform's services → the modules → the HTTP server and the console),
// Serve and Close (the start and stop of everything that runs, the background loops awaited), the
// server's edge (request ids, logging and metrics, input checks, and the gate: authentication,
// CSRF, the tenant scope, metering), and the command line (cli*.go). The control plane's JSON API
// is app/api, mounted by newServer on the groups it built; the public Open311 GeoReport v2 API is
// app/open311api, over the open311.Service New builds. Every console page is in app/console
// (a.web renders: the parsed templates, the layout's common data, the navigation), each group
// mounted by webRoutes with its own Deps: MountAccount, MountOps, MountWorkspace, MountAdmin,
// MountPrefecture, MountBilling, MountPublic.
//
// Modules plug in through platform/module: platformModules (modules.go) lists them, one line
// each; New mounts their API routes and pages behind the tenant scope and their entitlement,
// their nav links, templates, OpenAPI operations, commands, meters, migrations and demo data. A
// new city-operation module belongs in its own folder under platform/, not here.
//
// Handlers pass c.UserContext() to services, never c.Context(). Every tenant-scoped route sits
// under /api/v1/t/:tenant/ (or /t/:tenant/ for pages), where one middleware resolves the tenant
// and the caller's access into a tenants.Scope; handlers reach tenant data only through
// tenants.Store.Tx, which takes the scope from the context. User-visible text comes from
// internal/msg, in the caller's language.
package app
