package guidance

import (
	"context"
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
// reports and re-inspections), its console pages under /guidance (业务指导) and the loop
// "guidance reminders", which reminds the counties of what is due through the notifications.
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
			return module.Parts{API: h.routes, Console: h.pages, Demo: s.Demo, Background: []module.Loop{
				{Name: "reminders", Run: func(ctx context.Context) { s.remindLoop(ctx, k, k.Log) }},
			}}, nil
		},
	}
}
