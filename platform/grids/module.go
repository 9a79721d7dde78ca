package grids

import (
	_ "embed"

	"github.com/cityops/cityops/platform/module"
)

// openAPI is the module's part of the API document (module.Module.OpenAPI).
//
//go:embed openapi.json
var openAPI []byte

// Module is the grids module's registration: the JSON API of the grids, the tenant's boundary
// and the responsibility grids, served by s. It is a shared free module (no entitlement): the
// case loop needs it in every tenant. The grids' tables are in the platform's tenant migrations.
func Module(s *Service) module.Module {
	return module.Shared("grids", msgTitle, openAPI, s != nil, func(_ module.Kit, r module.Router) { api{s}.routes(r) })
}
