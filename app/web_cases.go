package app

import "github.com/gofiber/fiber/v2"

// webCaseRoutes registers the case workspace.
func (a *App) webCaseRoutes(r fiber.Router) {}
