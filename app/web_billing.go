package app

import "github.com/gofiber/fiber/v2"

// webBillingRoutes registers billing pages.
func (a *App) webBillingRoutes(r fiber.Router) {}
