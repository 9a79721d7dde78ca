package org

import (
	_ "embed"
	"errors"

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
	return module.Module{
		Name:    "org",
		Title:   msgTitle.ID(),
		OpenAPI: openAPI,
		Build: func(module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, errors.New("org: no service to serve")
			}
			return module.Parts{API: api{s}.routes}, nil
		},
	}
}
