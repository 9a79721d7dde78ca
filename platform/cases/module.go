package cases

import (
	_ "embed"

	"github.com/cityops/cityops/platform/module"
)

// openAPI is the module's part of the API document (module.Module.OpenAPI).
//
//go:embed openapi.json
var openAPI []byte

// Module is the case loop's registration: its JSON API (reports, the list and the map, a case,
// its actions and photos, the stage limits), served by s. It is a shared free module (no
// entitlement): the case loop is never refused. Its tables are in the platform's tenant
// migrations; s is built by the composition root, which also runs its overdue loop and puts its
// photos into tenant exports.
func Module(s *Service) module.Module {
	return module.Shared("cases", msgTitle, openAPI, s != nil, func(_ module.Kit, r module.Router) { api{s}.routes(r) })
}
