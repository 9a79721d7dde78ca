package guidance

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/cityops/cityops/platform/module"
)

//go:embed templates openapi.json migrations
var files embed.FS

// Module is the guidance and supervision registration: a shared free module (every prefecture
// and county has it) with its tables (guidance.0001, in every tenant), its API under /guidance
// (a prefecture's notices, tasks, templates and spot checks; a county's inbox, assigned tasks,
// reports and re-inspections) and its console pages under /guidance (业务指导).
func Module(s *Service) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:       "guidance",
		Title:      msgTitle.ID(),
		Templates:  tpl,
		Migrations: migs,
		OpenAPI:    api,
		Nav:        []module.Nav{{Path: "/guidance", Label: "guidance.nav"}},
		Build: func(k module.Kit) (module.Parts, error) {
			if s == nil {
				return module.Parts{}, fmt.Errorf("guidance: no service")
			}
			h := &handlers{s: s, k: k}
			return module.Parts{API: h.routes, Console: h.pages}, nil
		},
	}
}
