package monitoring_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
)

// TestIngestConcurrent: batches of two devices posted at once, all into the same minute, hour and
// day buckets, neither deadlock nor lose a reading: every rollup counts every raw reading.
func TestIngestConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a := w.e.A
		toks := []string{w.mustDevice(t, a, "BIN-1", "bin"), w.mustDevice(t, a, "BIN-2", "bin")}
		at := w.clk.Now().Truncate(time.Minute).Add(-time.Minute)
		const workers, batches, size = 4, 10, 50
		var wg sync.WaitGroup
		errc := make(chan error, workers*batches)
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range batches {
					rs := make([]monitoring.ReadingInput, size)
					for i := range rs {
						rs[i] = monitoring.ReadingInput{Metric: "fill", Value: float64(g*10 + i%10), At: at.Add(time.Duration(i) * time.Second)}
					}
					if _, err := w.s.Ingest(a, toks[g%2], monitoring.Batch{Readings: rs}); err != nil {
						errc <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		for _, code := range []string{"BIN-1", "BIN-2"} {
			d, _ := w.s.FindDeviceByCode(a, code)
			for _, res := range []string{"raw", "minute", "hour", "day"} {
				ser, err := w.s.FindSeries(a, d, "fill", at.Add(-48*time.Hour), at.Add(time.Hour), res)
				if err != nil {
					t.Fatal(err)
				}
				var n int64
				for _, p := range ser.Points {
					n += p.N
				}
				if want := int64(workers / 2 * batches * size); n != want {
					t.Errorf("%s %s: %d readings, want %d", code, res, n, want)
				}
			}
		}
	})
}
