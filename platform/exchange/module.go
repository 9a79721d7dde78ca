package exchange

import (
	"embed"
	"io/fs"

	"github.com/cityops/cityops/platform/module"
)

// Entitlement is the plan module code that unlocks the exchange.
const Entitlement = "exchange"

//go:embed migrations
var files embed.FS

// Module is the exchange's registration.
func Module(s *Service) module.Module {
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "exchange",
		Entitlement: Entitlement,
		Title:       msgTitle.ID(),
		Migrations:  migs,
		Build: func(k module.Kit) (module.Parts, error) {
			return module.Parts{}, nil
		},
	}
}
