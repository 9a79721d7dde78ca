package app

import "github.com/gofiber/fiber/v2"

// webAdminRoutes registers a county admin's settings.
func (a *App) webAdminRoutes(r fiber.Router) {}
