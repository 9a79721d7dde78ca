package api

import (
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/gofiber/fiber/v2"
)

// Deps are what the API's handlers use.
type Deps struct {
	Store   *tenants.Store
	Prov    *tenants.Provisioner
	Billing *billing.Service
	Secrets secrets.Store
	// Cases rotates a tenant's key (re-wrapping the personal data the case loop stored).
	Cases *cases.Service
	// Statements serves yearly statements, the same way as the console.
	Statements Statements
	// BaseURL starts the invitation links handed out.
	BaseURL string
	// ExportDir is where export downloads are spooled.
	ExportDir string
	// MapTiles is the deployment's default base map (CITYOPS_MAP_TILES), for tenants that set none.
	MapTiles string
	// Archives is the object store offboarding leaves a tenant's export archive in
	// (tenants.ArchivePrefix); PresignTTL is how long a download link to one works.
	Archives   blob.Store
	PresignTTL time.Duration
	// SecureCookies puts the Secure flag on the session cookie.
	SecureCookies bool
}

// Guards are the app's access checks the routes need beyond the tenant scope (roles inside a
// tenant are module.NeedRole).
type Guards struct {
	// Login admits signed-in callers.
	Login fiber.Handler
	// Operator admits operators holding one of roles (any operator role when none are given).
	Operator func(roles ...tenants.Role) fiber.Handler
}

// Mount adds the API's routes to api, the /api/v1 group, and t, the /api/v1/t/:tenant group that
// already resolves the tenant scope (and meters the request). The modules' routes go on t after.
func Mount(api, t fiber.Router, d Deps, g Guards) {
	id := &identityAPI{store: d.Store, baseURL: d.BaseURL, secure: d.SecureCookies}
	ts := &tenantsAPI{mapTiles: d.MapTiles, store: d.Store, prov: d.Prov, baseURL: d.BaseURL, exportDir: d.ExportDir, archives: d.Archives, presignTTL: d.PresignTTL}
	b := &billingAPI{store: d.Store, billing: d.Billing, statements: d.Statements}
	sec := &secretsAPI{store: d.Store, secrets: d.Secrets, cases: d.Cases}
	admin, operatorAdmin := module.NeedRole(tenants.TenantAdmin), g.Operator(tenants.OperatorAdmin)

	api.Post("/auth/login", id.login) // failed logins are throttled by the store (tenants.LoginThrottle)
	api.Post("/auth/logout", id.logout)
	api.Post("/invitations/accept", id.acceptInvitation)
	api.Get("/me", g.Login, id.me)
	api.Get("/me/tokens", g.Login, id.listTokens)
	api.Post("/me/tokens", g.Login, id.createToken)
	api.Delete("/me/tokens/:id", g.Login, id.revokeToken)

	api.Get("/tenants", g.Login, ts.list)
	api.Post("/tenants", operatorAdmin, ts.create)
	api.Get("/tenants/:slug", g.Login, ts.get)
	api.Post("/tenants/:slug/suspend", operatorAdmin, ts.suspend)
	api.Post("/tenants/:slug/resume", operatorAdmin, ts.resume)
	api.Post("/tenants/:slug/provision", operatorAdmin, ts.resumeProvisioning)
	api.Post("/tenants/:slug/offboard", operatorAdmin, ts.offboard)
	api.Get("/offboarding-archives/:tenant/:name", operatorAdmin, ts.offboardingArchive)
	api.Post("/tenants/:slug/export", operatorAdmin, ts.opExport)
	api.Get("/tenants/:slug/export/handover", operatorAdmin, ts.opHandover)
	api.Post("/tenants/:slug/export/waiver", operatorAdmin, ts.opWaiver)
	api.Post("/tenants/:slug/key/rotate", operatorAdmin, sec.rotateTenantKey)
	api.Get("/audit", g.Operator(), ts.audit)

	b.routes(api, t, g)
	// The group's own path is registered as "", not "/": the route and the OpenAPI path are
	// /t/:tenant, and with StrictRouting off /t/:tenant/ is served the same.
	t.Get("", ts.home)
	t.Get("/settings", ts.listSettings)
	t.Put("/settings/:key", admin, ts.putSetting)
	t.Get("/map/tiles", ts.getTileSource)
	t.Put("/map/tiles", admin, ts.putTileSource)
	t.Get("/members", id.listMembers)
	t.Put("/members/:id", admin, id.setMemberRoles)
	t.Get("/invitations", admin, id.listInvitations)
	t.Post("/invitations", admin, id.invite)
	t.Get("/audit", admin, ts.tenantAudit)
	t.Get("/export", admin, ts.export)
	t.Post("/export", admin, ts.exportPost)
	t.Get("/export/handover", admin, ts.handover)
	t.Post("/export/waiver", admin, ts.waiver)
	sec.routes(t)
}

// SessionCookie is the cookie that carries a browser's session token.
const SessionCookie = "cityops_session"

// CSRFToken is the anti-forgery token of a session: a hash of the session token, which only the
// browser holding the HttpOnly cookie and the server know. It needs no state, so it works across
// replicas, and it changes with every login.
func CSRFToken(sessionToken string) string {
	return tenants.HashToken("csrf:" + sessionToken)[:40]
}

// SetSession puts the session cookie on the response and returns the session's CSRF token (the
// API's login and the console's).
func SetSession(c *fiber.Ctx, token string, secure bool) string {
	c.Cookie(&fiber.Cookie{
		Name: SessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(tenants.SessionMax),
	})
	return CSRFToken(token)
}
