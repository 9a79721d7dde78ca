package monitoring_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
)

// TestSimulate: the simulator makes its devices, posts through the HTTP ingest and every
// reading it makes is accepted (plausible values within each metric's range); a second run
// takes over the same devices with fresh tokens.
func TestSimulate(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		w.clk.Set(time.Now())
		u := &usage{}
		f := w.server(t, u, true)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go f.Listener(ln)
		t.Cleanup(func() { f.Shutdown() })
		cfg := monitoring.SimConfig{Tenant: "chuxiong", Devices: 7, Rate: 40, Duration: 1500 * time.Millisecond, URL: "http://" + ln.Addr().String(), Lon: 101.5, Lat: 25.0}
		var out strings.Builder
		rep, err := w.s.Simulate(context.Background(), cfg, &out)
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if rep.Posted < 40 || rep.Accepted != rep.Posted || rep.Failed != 0 || len(rep.Rejected) != 0 {
			t.Fatalf("report %+v\n%s", rep, out.String())
		}
		ds, err := w.s.FindDevices(w.e.A, monitoring.DeviceFilter{Status: "online"})
		if err != nil || len(ds) != 7 || ds[0].Code != "SIM-0001" {
			t.Fatalf("devices %v %v", ds, err)
		}
		var metered int64
		for _, r := range u.recs {
			metered += r.Quantity
		}
		if metered != int64(rep.Accepted) {
			t.Fatalf("metered %d, accepted %d", metered, rep.Accepted)
		}
		rep, err = w.s.Simulate(context.Background(), cfg, nil)
		if err != nil || rep.Accepted != rep.Posted || rep.Failed != 0 {
			t.Fatalf("second run %+v %v", rep, err)
		}
		if ds, _ := w.s.FindDevices(w.e.A, monitoring.DeviceFilter{}); len(ds) != 7 {
			t.Fatalf("second run made devices: %d", len(ds))
		}
	})
}
