package app

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// openAPIDoc is the OpenAPI 3.1 document of the JSON API under /api/v1, written by hand for the
// routes of this package; modules add their own operations (module.Module.OpenAPI), merged in by
// buildOpenAPI. The tests in openapi_test.go lint the served document and hold it to the
// registered routes both ways: add or change a route and its operation together. Open311 is
// documented in docs/open311.md instead.
//
//go:embed openapi.json
var openAPIDoc []byte

// buildOpenAPI returns the served document: openAPIDoc with every module's paths and component
// schemas added. A module may not redefine a path or schema another part defines.
func buildOpenAPI(mods []module.Module) ([]byte, error) {
	frags := 0
	for _, m := range mods {
		if len(m.OpenAPI) > 0 {
			frags++
		}
	}
	if frags == 0 {
		return openAPIDoc, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	paths, _ := doc["paths"].(map[string]any)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	for _, m := range mods {
		if len(m.OpenAPI) == 0 {
			continue
		}
		var frag struct {
			Paths      map[string]any `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(m.OpenAPI, &frag); err != nil {
			return nil, fmt.Errorf("module %s: OpenAPI: %w", m.Name, err)
		}
		for p, item := range frag.Paths {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("module %s: OpenAPI path %s is defined twice", m.Name, p)
			}
			paths[p] = item
		}
		for n, s := range frag.Components.Schemas {
			if _, dup := schemas[n]; dup {
				return nil, fmt.Errorf("module %s: OpenAPI schema %s is defined twice", m.Name, n)
			}
			schemas[n] = s
		}
	}
	return json.Marshal(doc)
}

func (a *App) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(a.apiDoc)
}
