package monitoring

import (
	"context"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/uptrace/bun"
)

// Consumer is the MQTT consumer, for the tests.
type Consumer = consumer

// NewConsumer is newConsumer.
func NewConsumer(s *Service, k module.Kit, cfg MQTT) *Consumer { return newConsumer(s, k, cfg) }

// SetBeforeAck sets the hook run after a commit and before the acknowledgements.
func (c *consumer) SetBeforeAck(f func() bool) { c.beforeAck = f }

// Subscribed is closed once the consumer has subscribed.
func (c *consumer) Subscribed() <-chan struct{} { return c.subscribed }

// MQTTCount is the count of MQTT messages of outcome.
func (s *Service) MQTTCount(outcome string) int {
	return int(testutil.ToFloat64(s.stats.mqtt.WithLabelValues(outcome)))
}

// CopyFloor writes n readings of device (batches of 1,000, one tenant transaction each) with
// COPY alone, as BenchmarkIngestCopyFloor does, and returns how long it took.
func CopyFloor(ctx context.Context, s *tenants.Store, device int64, n int) (time.Duration, error) {
	start := time.Date(2026, 11, 17, 12, 0, 0, 0, time.UTC)
	var batches [][]*reading
	for i := 0; i < n; i += 1000 {
		var b []*reading
		for j := i; j < min(i+1000, n); j++ {
			m := "strain"
			if j%2 == 1 {
				m = "tilt"
			}
			b = append(b, &reading{DeviceID: device, Metric: m, At: start.Add(time.Duration(j) * 10 * time.Millisecond).UnixMilli(), Value: float64(j%40) + 0.25})
		}
		batches = append(batches, b)
	}
	t0 := time.Now()
	for _, b := range batches {
		if err := s.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			return tenants.CopyFrom(ctx, db, b, 500)
		}); err != nil {
			return 0, err
		}
	}
	return time.Since(t0), nil
}
