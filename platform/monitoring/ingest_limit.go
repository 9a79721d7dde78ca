package monitoring

import (
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// BatchesPerMinute is how many batches one device token may post to the HTTP ingest a minute
// (ten a second: a device sends far fewer; a gateway posting for many devices has one batch per
// device). Past it the ingest answers 429 with Retry-After, before reading the body. With Redis
// (CITYOPS_REDIS_URL) the replicas count together.
const BatchesPerMinute = 600

var msgIngestRateLimited = msg.New("monitoring.ingest_rate_limited",
	"This device posted more than %d batches in a minute; send fewer, larger batches, and try again after the Retry-After seconds.",
	"该设备一分钟内上报超过 %d 批；请合并为更少、更大的批次，并在 Retry-After 秒后重试。")

// ingestLimit limits the HTTP ingest per device token (nil when the kit has no limiter storage:
// tests without a server).
func ingestLimit(k module.Kit) fiber.Handler {
	if k.Limits == nil {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max: BatchesPerMinute, Expiration: time.Minute, Storage: k.Limits("ingest"),
		KeyGenerator: func(c *fiber.Ctx) string {
			// The token's hash, never the token (it would sit in Redis) nor a string of the
			// request's buffer.
			tok, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
			return tenants.HashToken(strings.TrimSpace(tok))
		},
		LimitReached: func(*fiber.Ctx) error { return errs.E(errs.RateLimited, msgIngestRateLimited, BatchesPerMinute) },
	})
}
