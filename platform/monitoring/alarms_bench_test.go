package monitoring_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// BenchmarkIngestHTTPRules is BenchmarkIngestHTTP with rules on the bridges: quiet (a strain
// rule never crossed, a tilt rate rule, a no_data rule: the common case, every batch judged and
// nothing raised), or flapping (a strain rule crossed back and forth 25 times per batch, each
// crossing raising an alarm of a rule that opens cases, and clearing it).
func BenchmarkIngestHTTPRules(b *testing.B) {
	for _, mode := range []string{"quiet", "flapping"} {
		b.Run(mode, func(b *testing.B) {
			e := platformtest.MustEnv(b, "postgres", monitoring.Module(nil))
			w := newWorld(b, e)
			f := w.server(b, &usage{}, true)
			var toks []string
			for i := range 10 {
				toks = append(toks, w.mustDevice(b, e.A, fmt.Sprintf("BR-%02d", i), "bridge"))
			}
			strain := monitoring.RuleInput{Name: "应变", DeviceType: "bridge", Metric: "strain", Kind: "above", Threshold: f64(4000)}
			if mode == "flapping" {
				strain = monitoring.RuleInput{Name: "应变", DeviceType: "bridge", Metric: "strain", Kind: "above", Threshold: f64(30), ClearAt: f64(20),
					Action: "case", CaseKind: "component", ClassCode: "0210"}
			}
			w.mustRule(b, strain)
			w.mustRule(b, monitoring.RuleInput{Name: "倾角突变", DeviceType: "bridge", Metric: "tilt", Kind: "rate", Threshold: f64(50000)})
			w.mustRule(b, monitoring.RuleInput{Name: "无数据", DeviceType: "bridge", Kind: "no_data", Threshold: f64(30)})
			postBridgeBatches(b, w, f, toks)
		})
	}
}

// BenchmarkAlarmToCase: 10,000 devices in one county (a third of them waterlog points with a
// rule that opens cases) stream readings in batches while now and then one of them crosses
// its threshold; it measures the time from the start of the batch that raises an alarm to its
// case being open (the case opener kicked by the ingest, as the server runs it), and reports
// p50 and p99 of that latency and the readings/s the stream kept up.
func BenchmarkAlarmToCase(b *testing.B) {
	e := platformtest.MustEnv(b, "postgres", monitoring.Module(nil))
	w := newWorld(b, e)
	w.clk.Set(time.Now())
	w.s.SetCases(w.cs)
	const devices = 10_000
	types := []string{"waterlog", "gas", "bin"}
	toks := make([]string, devices)
	var csv strings.Builder
	csv.WriteString("code,type,lon,lat\n")
	for i := range devices {
		fmt.Fprintf(&csv, "D-%05d,%s,%.5f,%.5f\n", i, types[i%3], 101.50+float64(i%100)*0.0001, 25.00+float64(i/100)*0.0001)
	}
	_, made, err := w.s.ImportDevices(e.A, []byte(csv.String()), "csv", false)
	if err != nil || len(made) != devices {
		b.Fatalf("import: %d %v", len(made), err)
	}
	for i, m := range made {
		if m.Code != fmt.Sprintf("D-%05d", i) {
			b.Fatalf("made %d: %s", i, m.Code)
		}
		toks[i] = m.Token
	}
	w.mustRule(b, monitoring.RuleInput{Name: "积水", DeviceType: "waterlog", Metric: "level", Kind: "above", Threshold: f64(20), ClearAt: f64(15),
		Action: "case", CaseKind: "event", ClassCode: "0406"})
	w.mustRule(b, monitoring.RuleInput{Name: "燃气", DeviceType: "gas", Metric: "concentration", Kind: "above", Threshold: f64(25),
		Action: "alarm"})
	metric := map[string]string{"waterlog": "level", "gas": "concentration", "bin": "fill"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := module.Kit{Store: e.Store, Log: slog.New(slog.DiscardHandler),
		Entitled: func(context.Context, *tenants.Tenant, string) (bool, error) { return true, nil }}
	go monitoring.RunCasesForTest(w.s, ctx, k)

	// The background stream: 4 workers, each posting a batch of 60 readings (a minute of one
	// device at 1 Hz) for device after device, all below the thresholds.
	var streamed sync.WaitGroup
	var mu sync.Mutex
	readings := 0
	for wk := range 4 {
		streamed.Add(1)
		go func() {
			defer streamed.Done()
			for i := wk; ctx.Err() == nil; i += 4 {
				d := (i * 7) % devices
				if d%3 == 0 { // the waterlog points that raise are left to the measured batches
					d = (d + 1) % devices
				}
				rs := make([]monitoring.ReadingInput, 60)
				at := time.Now().Add(-time.Minute)
				for j := range rs {
					rs[j] = monitoring.ReadingInput{Metric: metric[types[d%3]], Value: 5, At: at.Add(time.Duration(j) * time.Second)}
				}
				if _, err := w.s.Ingest(e.A, toks[d], monitoring.Batch{Readings: rs}); err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
				mu.Lock()
				readings += 60
				mu.Unlock()
			}
		}()
	}
	var lat []time.Duration
	began := time.Now()
	b.ResetTimer()
	for n := range b.N {
		d := (n * 3) % devices // a waterlog point
		t0 := time.Now()
		if _, err := w.s.Ingest(e.A, toks[d], monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "level", Value: 30, At: t0}}}); err != nil {
			b.Fatal(err)
		}
		for {
			var st string
			if err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
				return db.NewRaw("SELECT a.case_status FROM monitoring_alarms AS a JOIN monitoring_devices AS d ON d.id = a.device_id WHERE d.code = ? AND a.state <> 'cleared'",
					fmt.Sprintf("D-%05d", d)).Scan(ctx, &st)
			}); err != nil {
				b.Fatal(err)
			}
			if st == "opened" {
				break
			}
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("alarm of D-%05d: %s after 30 s", d, st)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(t0))
		// Back below: the alarm clears, the device may raise again (its case still open: it
		// would join it; each measured device is a new one while n < devices/3).
		if _, err := w.s.Ingest(e.A, toks[d], monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "level", Value: 5, At: time.Now()}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cancel()
	streamed.Wait()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(readings)/time.Since(began).Seconds(), "stream-readings/s")
}
