package catalog

import (
	_ "embed"

	"github.com/cityops/cityops/platform/module"
)

// openAPI is the module's part of the API document (module.Module.OpenAPI).
//
//go:embed openapi.json
var openAPI []byte

// Module is the catalog module's registration: the JSON API of the component and event classes,
// the component inventory and the filing, handling and closing standards, served by s. It is a
// shared free module (no entitlement): the case loop needs it in every tenant. The catalog's
// tables are in the platform's tenant migrations.
func Module(s *Service) module.Module {
	return module.Shared("catalog", msgTitle, openAPI, s != nil, func(_ module.Kit, r module.Router) { api{s}.routes(r) })
}
