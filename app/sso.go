package app

import (
	_ "embed"
	"net/http"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants/sso"
)

// newSSO builds single sign-on (docs/identity.md): the OpenID Connect flows against each
// tenant's and the operator's providers, their client secrets in the secret store.
func (a *App) newSSO() *sso.Service {
	return sso.New(sso.Config{Store: a.store, Secrets: a.secrets, BaseURL: a.cfg.BaseURL,
		Client: &http.Client{Timeout: 10 * time.Second}, ClockSkew: a.cfg.SSOClockSkew, Now: a.store.Now, Log: a.log.With("component", "sso"),
		// A provider on this machine over plain http only while CityOps itself is not served
		// over https (development, the tests).
		PlainHTTPIssuers: !a.cfg.secureCookies()})
}

// ssoOpenAPI carries the OpenAPI operations of single sign-on's configuration (app/api/sso.go),
// merged into the served document as a module's are.
var ssoOpenAPI = module.Module{Name: "sso", OpenAPI: ssoOpenAPIDoc}

//go:embed openapi_sso.json
var ssoOpenAPIDoc []byte
