package calendar

import (
	_ "embed"

	"github.com/cityops/cityops/platform/module"
)

// openAPI is the module's part of the API document (module.Module.OpenAPI).
//
//go:embed openapi.json
var openAPI []byte

// Module is the calendar module's registration: the JSON API of the work calendar and the
// preview of deadlines, served by s. It is a shared free module (no entitlement): the case loop
// needs it in every tenant. The calendar's tables are in the platform's tenant migrations.
func Module(s *Service) module.Module {
	return module.Shared("calendar", msgTitle, openAPI, s != nil, func(k module.Kit, r module.Router) { api{s: s, now: k.Now}.routes(r) })
}
