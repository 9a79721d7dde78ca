package org

import (
	_ "embed"

	"github.com/cityops/cityops/platform/module"
)

// openAPI is the module's part of the API document (module.Module.OpenAPI).
//
//go:embed openapi.json
var openAPI []byte

// Module is the organisation module's registration: the JSON API of the departments and the
// staff, served by s. It is a shared free module (no entitlement): the case loop needs it in
// every tenant. The organisation's tables are in the platform's tenant migrations.
func Module(s *Service) module.Module {
	return module.Shared("org", msgTitle, openAPI, s != nil, func(_ module.Kit, r module.Router) { api{s}.routes(r) })
}
