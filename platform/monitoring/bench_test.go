package monitoring_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/platformtest"
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gofiber/fiber/v2"
)

// BenchmarkIngestHTTP posts batches of 1,000 readings (10 devices in turn, a reading every
// 100 ms of each) through the HTTP handler into PostgreSQL: JSON decoding, the checks, COPY of
// the raw rows, the three rollup upserts and the batch row, one tenant transaction per batch.
// It reports readings/s.
func BenchmarkIngestHTTP(b *testing.B) {
	e := platformtest.MustEnv(b, "postgres", monitoring.Module(nil))
	w := newWorld(b, e)
	f := w.server(b, &usage{}, true)
	var toks []string
	for i := range 10 {
		toks = append(toks, w.mustDevice(b, e.A, fmt.Sprintf("BR-%02d", i), "bridge"))
	}
	postBridgeBatches(b, w, f, toks)
}

// postBridgeBatches is the timed part of the HTTP ingest benchmarks: b.N batches of 1,000
// readings of the bridges toks (strain and tilt in turn, 10 a second), posted one after the
// other; it reports readings/s.
func postBridgeBatches(b *testing.B, w *world, f *fiber.App, toks []string) {
	start := w.clk.Now().Add(-20 * 24 * time.Hour)
	bodies := make([]string, 0, b.N)
	for n := range b.N {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"batch":"b%d","readings":[`, n)
		base := start.Add(time.Duration(n/10) * 100 * time.Second)
		for j := range 1000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			m := "strain"
			if j%2 == 1 {
				m = "tilt"
			}
			fmt.Fprintf(&sb, `{"metric":%q,"value":%d.25,"at":%q}`, m, j%40, base.Add(time.Duration(j)*100*time.Millisecond).UTC().Format(time.RFC3339Nano))
		}
		sb.WriteString("]}")
		bodies = append(bodies, sb.String())
	}
	b.ResetTimer()
	for n := range b.N {
		if r := result(b, post(b, f, "/api/v1/ingest/chuxiong/readings", toks[n%len(toks)], bodies[n])); r.Accepted != 1000 {
			b.Fatalf("accepted %d", r.Accepted)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkIngestMQTT publishes readings at QoS 1 to the test's own Mosquitto on loopback (4
// publishers, 10 bridge devices, messages of 1 reading and of 100 readings, no batch id: the
// payload's hash is the batch id) and measures readings/s end to end: from the first publish
// until the consumer has committed the last message into PostgreSQL (checks, COPY, rollups,
// batch rows, acknowledgements after the commit). One op is one reading; run it with a fixed
// count, e.g. -benchtime 100000x. It reports the COPY floor of the same number of rows (batches
// of 1,000, one transaction each) measured in the same run, and the ratio.
func BenchmarkIngestMQTT(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run(fmt.Sprintf("readings=%d", per), func(b *testing.B) { benchMQTT(b, per) })
	}
}

func benchMQTT(b *testing.B, per int) {
	e := platformtest.MustEnv(b, "postgres", monitoring.Module(nil))
	w := newWorld(b, e)
	br := mustBroker(b, "")
	for i := range 10 {
		w.mustDevice(b, e.A, fmt.Sprintf("BR-%02d", i), "bridge")
	}
	msgs := (b.N + per - 1) / per
	total := msgs * per
	start := w.clk.Now().Add(-20 * 24 * time.Hour)
	payloads := make([]string, msgs)
	topics := make([]string, msgs)
	for n := range msgs {
		dev := n % 10
		var sb strings.Builder
		sb.WriteString(`{"readings":[`)
		for j := range per {
			if j > 0 {
				sb.WriteByte(',')
			}
			k := (n/10)*per + j // the device's k-th reading
			m := "strain"
			if k%2 == 1 {
				m = "tilt"
			}
			fmt.Fprintf(&sb, `{"metric":%q,"value":%d.25,"at":%q}`, m, k%40, start.Add(time.Duration(k)*100*time.Millisecond).UTC().Format(time.RFC3339Nano))
		}
		sb.WriteString("]}")
		payloads[n] = sb.String()
		topics[n] = fmt.Sprintf("cityops/chuxiong/BR-%02d/readings", dev)
	}
	w.consume(b, br, "bench", &usage{}, nil)
	const publishers = 4
	ps := make([]*publisher, publishers)
	for i := range ps {
		ps[i] = mustPublisher(b, br.url(), fmt.Sprintf("pub-%d", i), "", "")
	}
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var toks []mqtt.Token
			for n := i; n < msgs; n += publishers {
				toks = append(toks, p.publish(topics[n], payloads[n]).tok)
			}
			for _, tok := range toks {
				if !tok.WaitTimeout(5*time.Minute) || tok.Error() != nil {
					b.Errorf("publish: %v", tok.Error())
					return
				}
			}
		}()
	}
	for w.s.MQTTCount("taken") < msgs && !b.Failed() {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := b.Elapsed()
	b.StopTimer()
	wg.Wait()
	if got := w.counts(b, e.A); got.Readings != total || got.Batches != msgs {
		b.Fatalf("stored %+v, want %d readings in %d batches", got, total, msgs)
	}
	rate := float64(total) / elapsed.Seconds()
	b.ReportMetric(rate, "readings/s")
	b.ReportMetric(float64(msgs)/elapsed.Seconds(), "msgs/s")
	floor, err := monitoring.CopyFloor(e.A, e.Store, 1, total)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/floor.Seconds(), "copy-floor-readings/s")
	b.ReportMetric(rate/(float64(total)/floor.Seconds()), "x-floor")
}
