package app

import "github.com/gofiber/fiber/v2"

// webPrefectureRoutes registers the prefecture's overview.
func (a *App) webPrefectureRoutes(r fiber.Router) {}
