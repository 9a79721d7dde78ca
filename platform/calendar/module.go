package calendar

import (
	_ "embed"
	"errors"

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
	return module.Module{
		Name:    "calendar",
		Title:   msgTitle.ID(),
		OpenAPI: openAPI,
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, errors.New("calendar: no service to serve")
			}
			return module.Parts{API: api{s: s, now: k.Now}.routes}, nil
		},
	}
}
