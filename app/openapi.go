package app

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openAPIDoc is the OpenAPI 3.1 document of the JSON API under /api/v1, written by hand. The
// tests in openapi_test.go lint it and hold it to the registered routes both ways: add or change
// a route and its operation together. Open311 is documented in docs/open311.md instead.
//
//go:embed openapi.json
var openAPIDoc []byte

func (a *App) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openAPIDoc)
}
