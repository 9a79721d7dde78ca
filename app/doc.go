// Package app is the process: configuration, the composition root (App), the HTTP server on
// fiber with its one error handler, the JSON API, the web pages and the command line.
//
// Handlers pass c.UserContext() to services, never c.Context(). Every tenant-scoped route sits
// under /api/v1/t/:tenant/ (or /t/:tenant/ for pages), where one middleware resolves the tenant
// and the caller's access into a tenants.Scope; handlers reach tenant data only through
// tenants.Store.Tx, which takes the scope from the context.
package app
