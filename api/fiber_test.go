package api_test

import "github.com/gofiber/fiber/v2"

type fiberCtx = fiber.Ctx
