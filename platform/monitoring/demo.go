package monitoring

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cityops/cityops/tenants"
)

// demoDevices are the demo county's devices: one of each type, in its unit grids.
var demoDevices = []struct {
	code, name, typ string
	lon, lat        float64
}{
	{"MH-001", "北浦路井盖", "manhole", 101.5555, 25.0335},
	{"WL-001", "龙川桥下积水点", "waterlog", 101.5365, 25.0425},
	{"GAS-001", "东兴燃气调压站", "gas", 101.5855, 25.0325},
	{"BR-001", "龙川桥", "bridge", 101.5360, 25.0235},
	{"SL-001", "北浦路路灯 12 号", "streetlight", 101.5565, 25.0325},
	{"BIN-001", "东兴市场垃圾桶", "bin", 101.5865, 25.0335},
}

// seedDemo gives the demo county its devices and their last 24 hours of readings, one every 10
// minutes of each metric, taken through the ingest as a device's batches would be.
func (s *Service) seedDemo(ctx context.Context, t *tenants.Tenant) error {
	ctx = tenants.WithScope(ctx, tenants.SystemScope(t))
	now := s.now()
	for i, dd := range demoDevices {
		name := dd.name
		_, tok, err := s.CreateDevice(ctx, DeviceInput{Code: dd.code, Name: &name, Type: dd.typ, Lon: &dd.lon, Lat: &dd.lat})
		if err != nil {
			return fmt.Errorf("demo device %s: %w", dd.code, err)
		}
		typ, _ := FindType(dd.typ)
		sim := &simDevice{code: dd.code, typ: typ, state: map[string]float64{}, rnd: rand.New(rand.NewPCG(uint64(i), 3))}
		var rs []ReadingInput
		for at := now.Add(-24 * time.Hour).Truncate(10 * time.Minute); !at.After(now); at = at.Add(10 * time.Minute) {
			for j := range typ.Metrics {
				m := &typ.Metrics[j]
				rs = append(rs, ReadingInput{Metric: m.Code, Value: sim.next(m, at), At: at})
			}
		}
		if _, err := s.Ingest(ctx, tok, Batch{Batch: "demo", Readings: rs}); err != nil {
			return fmt.Errorf("demo readings of %s: %w", dd.code, err)
		}
	}
	// The rules come after the day of readings: the demo starts with no alarms from its past.
	for _, in := range demoRules() {
		if _, err := s.CreateRule(ctx, in); err != nil {
			return fmt.Errorf("demo rule %s: %w", in.Name, err)
		}
	}
	return nil
}
