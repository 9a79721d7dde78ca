package app

import "github.com/gofiber/fiber/v2"

// webPublicRoutes registers citizens' public report pages.
func (a *App) webPublicRoutes(r fiber.Router) {}
