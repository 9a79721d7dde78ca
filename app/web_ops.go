package app

import "github.com/gofiber/fiber/v2"

// webOpsRoutes registers the operating company's console: tenants, onboarding, lifecycle.
func (a *App) webOpsRoutes(r fiber.Router) {}
