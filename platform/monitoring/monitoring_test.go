package monitoring_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tabular"
	"github.com/cityops/cityops/platform/monitoring"
)

// TestDevices: a device's grid is found from its point, its component checked; bad input is
// refused with the field at fault; B and the prefecture viewer change nothing of A's.
func TestDevices(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a, b := w.e.A, w.e.B
		d, tok, err := w.s.CreateDevice(a, monitoring.DeviceInput{Code: "MH-1", Type: "井盖", Name: ptr(" 北门井盖 "), Lon: ptr(101.505), Lat: ptr(25.005), ComponentCode: ptr(compA)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Type != "manhole" || d.GridCode == nil || *d.GridCode != gridA || d.Name != "北门井盖" || d.Status != "offline" {
			t.Fatalf("device %+v", d)
		}
		if !strings.HasPrefix(tok, "cod_") || len(tok) < 40 || !strings.HasPrefix(tok, d.TokenPrefix) {
			t.Fatalf("token %q, prefix %q", tok, d.TokenPrefix)
		}
		for _, tc := range []struct {
			name  string
			in    monitoring.DeviceInput
			field string
			code  errs.Code
		}{
			{"taken code", monitoring.DeviceInput{Code: "MH-1", Type: "manhole", Lon: ptr(101.5), Lat: ptr(25.0)}, "code", errs.Conflict},
			{"bad code", monitoring.DeviceInput{Code: "MH 1", Type: "manhole", Lon: ptr(101.5), Lat: ptr(25.0)}, "code", errs.Invalid},
			{"bad type", monitoring.DeviceInput{Code: "X-1", Type: "toaster", Lon: ptr(101.5), Lat: ptr(25.0)}, "type", errs.Invalid},
			{"outside China", monitoring.DeviceInput{Code: "X-1", Type: "gas", Lon: ptr(2.35), Lat: ptr(48.85)}, "lon", errs.Invalid},
			{"no point", monitoring.DeviceInput{Code: "X-1", Type: "gas"}, "lon", errs.Invalid},
			{"NaN", monitoring.DeviceInput{Code: "X-1", Type: "gas", Lon: ptr(math.NaN()), Lat: ptr(25.0)}, "lon", errs.Invalid},
			{"unknown grid", monitoring.DeviceInput{Code: "X-1", Type: "gas", Lon: ptr(101.5), Lat: ptr(25.0), GridCode: ptr("53230100100199")}, "grid_code", errs.Invalid},
			{"unknown component", monitoring.DeviceInput{Code: "X-1", Type: "gas", Lon: ptr(101.5), Lat: ptr(25.0), ComponentCode: ptr("5323010101999999")}, "component_code", errs.Invalid},
			{"NUL in the name", monitoring.DeviceInput{Code: "X-1", Type: "gas", Lon: ptr(101.5), Lat: ptr(25.0), Name: ptr("a\x00b")}, "name", errs.Invalid},
		} {
			_, _, err := w.s.CreateDevice(a, tc.in)
			if errs.CodeOf(err) != tc.code || errs.FieldOf(err) != tc.field {
				t.Errorf("%s: %v (%s, field %q), want %s on %s", tc.name, err, errs.CodeOf(err), errs.FieldOf(err), tc.code, tc.field)
			}
		}
		// Outside every grid: no grid, and that is no error.
		far, _, err := w.s.CreateDevice(a, monitoring.DeviceInput{Code: "GAS-1", Type: "gas", Lon: ptr(101.6), Lat: ptr(25.1)})
		if err != nil || far.GridCode != nil {
			t.Fatalf("far device %+v %v", far, err)
		}
		// Moving MH-1 out of the grid drops its grid; its type stays.
		up, err := w.s.UpdateDevice(a, "MH-1", monitoring.DeviceInput{Lon: ptr(101.6)})
		if err != nil || up.GridCode != nil || up.Lon != 101.6 || up.ComponentCode == nil {
			t.Fatalf("update %+v %v", up, err)
		}
		if _, err := w.s.UpdateDevice(a, "MH-1", monitoring.DeviceInput{Type: "gas"}); errs.FieldOf(err) != "type" {
			t.Fatalf("type change: %v", err)
		}
		if _, err := w.s.UpdateDevice(a, "MH-1", monitoring.DeviceInput{Lon: ptr(101.505), GridCode: ptr(gridA)}); err != nil {
			t.Fatal(err)
		}
		// Filters.
		for _, tc := range []struct {
			f    monitoring.DeviceFilter
			want []string
		}{
			{monitoring.DeviceFilter{}, []string{"GAS-1", "MH-1"}},
			{monitoring.DeviceFilter{Type: "gas"}, []string{"GAS-1"}},
			{monitoring.DeviceFilter{GridCode: gridA}, []string{"MH-1"}},
			{monitoring.DeviceFilter{Status: "offline"}, []string{"GAS-1", "MH-1"}},
			{monitoring.DeviceFilter{Status: "online"}, nil},
		} {
			if got := codes(t, w, a, tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
			}
		}
		// A reading brings MH-1 online; 15 minutes later it is offline again.
		if _, err := w.s.Ingest(a, tok, monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "tilt", Value: 1.5}}}); err != nil {
			t.Fatal(err)
		}
		if got := codes(t, w, a, monitoring.DeviceFilter{Status: "online"}); !slices.Equal(got, []string{"MH-1"}) {
			t.Fatalf("online: %v", got)
		}
		w.clk.Add(16 * time.Minute)
		if got := codes(t, w, a, monitoring.DeviceFilter{Status: "online"}); len(got) != 0 {
			t.Fatalf("online after 16 minutes: %v", got)
		}
		// B sees none of A's devices; the prefecture viewer reads A's and changes nothing.
		if _, err := w.s.FindDeviceByCode(b, "MH-1"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B reads A's device: %v", err)
		}
		if got := codes(t, w, b, monitoring.DeviceFilter{}); len(got) != 0 {
			t.Fatalf("B lists %v", got)
		}
		if _, err := w.s.UpdateDevice(b, "MH-1", monitoring.DeviceInput{Name: ptr("x")}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("B changes A's device: %v", err)
		}
		if got := codes(t, w, w.e.View, monitoring.DeviceFilter{}); len(got) != 2 {
			t.Fatalf("viewer lists %v", got)
		}
		if _, _, err := w.s.CreateDevice(w.e.View, monitoring.DeviceInput{Code: "V-1", Type: "gas", Lon: ptr(101.6), Lat: ptr(25.1)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer creates: %v", err)
		}
		if err := w.s.DeleteDevice(w.e.View, "MH-1"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("viewer deletes: %v", err)
		}
		// Deleting takes the readings and rollups along.
		if err := w.s.DeleteDevice(a, "MH-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.FindDeviceByCode(a, "MH-1"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deleted device: %v", err)
		}
		d2, _, err := w.s.CreateDevice(a, monitoring.DeviceInput{Code: "MH-1", Type: "manhole", Lon: ptr(101.505), Lat: ptr(25.005)})
		if err != nil {
			t.Fatal(err)
		}
		if l, err := w.s.FindLatest(a, d2); err != nil || len(l) != 0 {
			t.Fatalf("a new MH-1 inherits readings: %v %v", l, err)
		}
		if n := len(w.e.MustAudit(t, w.e.TenantA, "monitoring.device.create")); n != 3 {
			t.Fatalf("%d creations audited, want 3", n)
		}
	})
}

func codes(t *testing.T, w *world, ctx context.Context, f monitoring.DeviceFilter) []string {
	t.Helper()
	ds, err := w.s.FindDevices(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.Code)
	}
	return out
}

// TestImportDevices: a CSV with Chinese headers makes every device or none, with a report of
// each bad row.
func TestImportDevices(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a := w.e.A
		bad := "设备编码,设备名称,设备类型,经度,纬度,关联部件\n" +
			"WL-1,东门积水,积水,101.505,25.005,\n" +
			"WL-2,西门积水,toaster,101.505,25.005,\n" +
			"WL-1,重复,积水,101.505,25.005,\n" +
			"WL-3,远处,燃气,2.3,48.8,\n" +
			"WL-4,部件,路灯,101.505,25.005,5323010101999999\n"
		rep, _, err := w.s.ImportDevices(a, []byte(bad), "csv", false)
		if rep == nil || err == nil || rep.OK() {
			t.Fatalf("bad import: %+v %v", rep, err)
		}
		var rows []int
		for _, p := range rep.Problems {
			rows = append(rows, p.Row)
		}
		if !slices.Equal(rows, []int{3, 4, 5, 6}) {
			t.Fatalf("problems on rows %v, want 3 4 5 6: %+v", rows, rep.Problems)
		}
		if got := codes(t, w, a, monitoring.DeviceFilter{}); len(got) != 0 {
			t.Fatalf("a rejected import wrote %v", got)
		}
		good := "设备编码,设备名称,设备类型,经度,纬度,关联部件\nWL-1,东门积水,积水,101.505,25.005,\nSL-1,路灯,路灯,101.505,25.005," + compA + "\n\n"
		if rep, made, err := w.s.ImportDevices(a, []byte(good), "csv", true); err != nil || !rep.OK() || rep.Applied || made != nil {
			t.Fatalf("dry run: %+v %v", rep, err)
		}
		if got := codes(t, w, a, monitoring.DeviceFilter{}); len(got) != 0 {
			t.Fatalf("a dry run wrote %v", got)
		}
		rep, made, err := w.s.ImportDevices(a, []byte(good), "csv", false)
		if err != nil || rep.Accepted != 2 || !rep.Applied || len(made) != 2 {
			t.Fatalf("import: %+v %v %v", rep, made, err)
		}
		if _, err := w.s.Ingest(a, made[1].Token, monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "current", Value: 2}}}); err != nil {
			t.Fatalf("imported token: %v", err)
		}
		sl, _ := w.s.FindDeviceByCode(a, "SL-1")
		if sl.Type != "streetlight" || sl.GridCode == nil || *sl.GridCode != gridA || *sl.ComponentCode != compA {
			t.Fatalf("imported %+v", sl)
		}
		// The same file again: every code is taken.
		rep, _, err = w.s.ImportDevices(a, []byte(good), "csv", false)
		var rej *tabular.Rejected
		if !errorsAs(err, &rej) || len(rep.Problems) != 2 {
			t.Fatalf("import again: %+v %v", rep, err)
		}
	})
}

// TestIngest: each rejection reason is counted in the answer and the tenant's daily counts; a
// bad, rotated or other tenant's token is refused; a batch sent again is taken once.
func TestIngest(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a := w.e.A
		tok := w.mustDevice(t, a, "MH-1", "manhole")
		w.mustDevice(t, a, "MH-2", "manhole")
		tokB := w.mustDevice(t, w.e.B, "MH-1", "manhole")
		now := w.clk.Now()
		rs := []monitoring.ReadingInput{
			{Metric: "tilt", Value: 3.5, At: now.Add(-time.Minute)},            // ok
			{Device: "MH-1", Metric: "open", Value: 1, Unit: ptr(""), At: now}, // ok
			{Device: "NOPE", Metric: "tilt", Value: 1},                         // unknown_device
			{Device: "MH-2", Metric: "tilt", Value: 1},                         // foreign_device
			{Metric: "level", Value: 10},                                       // unknown_metric
			{Metric: "tilt", Value: 10, Unit: ptr("rad")},                      // bad_unit
			{Metric: "tilt", Value: 91},                                        // out_of_range
			{Metric: "open", Value: -1},                                        // out_of_range
			{Metric: "tilt", Value: 1, At: now.Add(6 * time.Minute)},           // future
			{Metric: "tilt", Value: 1, At: now.Add(4 * time.Minute)},           // ok: within the skew
			{Metric: "tilt", Value: 1, At: now.Add(-31 * 24 * time.Hour)},      // too_old
		}
		res, err := w.s.Ingest(a, tok, monitoring.Batch{Batch: "b-1", Readings: rs})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"unknown_device": 1, "foreign_device": 1, "unknown_metric": 1, "bad_unit": 1, "out_of_range": 2, "future": 1, "too_old": 1}
		if res.Accepted != 3 || fmt.Sprint(res.Rejected) != fmt.Sprint(want) || res.Duplicate || res.Device != "MH-1" || len(res.Rows) != 8 || res.Rows[0].Index != 2 {
			t.Fatalf("result %+v", res)
		}
		again, err := w.s.Ingest(a, tok, monitoring.Batch{Batch: "b-1", Readings: rs})
		if err != nil || !again.Duplicate || again.Accepted != 3 || fmt.Sprint(again.Rejected) != fmt.Sprint(want) {
			t.Fatalf("again %+v %v", again, err)
		}
		res2, err := w.s.Ingest(a, tok, monitoring.Batch{Readings: rs[6:8]})
		if err != nil || res2.Accepted != 0 || res2.Rejected["out_of_range"] != 2 {
			t.Fatalf("second %+v %v", res2, err)
		}
		counts, err := w.s.FindRejections(a, "", "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, c := range counts {
			if c.Day != "2026-12-07" {
				t.Fatalf("count on %s", c.Day)
			}
			got[c.Reason] = c.N
		}
		want["out_of_range"] = 4
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("counts %v, want %v", got, want)
		}
		if c, _ := w.s.FindRejections(w.e.B, "", ""); len(c) != 0 {
			t.Fatalf("B counts %v", c)
		}
		d, _ := w.s.FindDeviceByCode(a, "MH-1")
		ser, err := w.s.FindSeries(a, d, "tilt", now.Add(-time.Hour), now.Add(time.Hour), "raw")
		if err != nil || len(ser.Points) != 2 {
			t.Fatalf("raw after a duplicate batch: %+v %v", ser, err)
		}
		// Tokens.
		for name, tc := range map[string]struct {
			ctx context.Context
			tok string
		}{"bad": {a, "cod_nonsense"}, "empty": {a, ""}, "B's in A": {a, tokB}, "A's in B": {w.e.B, tok}} {
			if _, err := w.s.Ingest(tc.ctx, tc.tok, monitoring.Batch{Readings: rs[:1]}); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("%s token: %v", name, err)
			}
		}
		_, fresh, err := w.s.RotateToken(a, "MH-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Ingest(a, tok, monitoring.Batch{Readings: rs[:1]}); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("rotated token: %v", err)
		}
		if _, err := w.s.Ingest(a, fresh, monitoring.Batch{Readings: rs[:1]}); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
		// Limits.
		if _, err := w.s.Ingest(a, fresh, monitoring.Batch{Readings: make([]monitoring.ReadingInput, monitoring.MaxBatch+1)}); !errs.Is(err, errs.TooLarge) {
			t.Fatalf("oversize batch: %v", err)
		}
		if _, err := w.s.Ingest(a, fresh, monitoring.Batch{Batch: "a b"}); errs.FieldOf(err) != "batch" {
			t.Fatalf("bad batch id: %v", err)
		}
		// Latest: the newest reading of each metric.
		l, err := w.s.FindLatest(a, d)
		if err != nil || len(l) != 2 || l[0].Metric != "tilt" || l[0].Value != 1 || !l[0].At.Equal(now.Add(4*time.Minute)) || l[1].Metric != "open" || l[1].Value != 1 {
			t.Fatalf("latest %+v %v", l, err)
		}
	})
}

// TestRollupsMatchRaw: after random batches (out of order, several devices and metrics, across
// minutes, hours and China days), every rollup equals the aggregate computed from the raw
// readings.
func TestRollupsMatchRaw(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a := w.e.A
		r := rand.New(rand.NewPCG(1, 2))
		toks := map[string]string{"BR-1": w.mustDevice(t, a, "BR-1", "bridge"), "BR-2": w.mustDevice(t, a, "BR-2", "bridge")}
		now := w.clk.Now()
		start := now.Add(-50 * time.Hour)
		for i := 0; i < 30; i++ {
			for code, tok := range toks {
				var rs []monitoring.ReadingInput
				for j := 0; j < 1+r.IntN(80); j++ {
					m := []string{"strain", "tilt"}[r.IntN(2)]
					at := start.Add(time.Duration(r.Int64N(int64(50 * time.Hour))))
					if r.IntN(10) == 0 { // readings sharing a millisecond
						at = start.Add(time.Duration(i) * time.Hour)
					}
					v := math.Round((r.Float64()*80-40)*1000) / 1000
					rs = append(rs, monitoring.ReadingInput{Device: code, Metric: m, Value: v, At: at})
				}
				if _, err := w.s.Ingest(a, tok, monitoring.Batch{Readings: rs}); err != nil {
					t.Fatal(err)
				}
			}
		}
		for code := range toks {
			d, _ := w.s.FindDeviceByCode(a, code)
			for _, m := range []string{"strain", "tilt"} {
				raw, err := w.s.FindSeries(a, d, m, start.Add(-time.Hour), now.Add(time.Hour), "raw")
				if err != nil {
					t.Fatal(err)
				}
				if len(raw.Points) < 100 {
					t.Fatalf("%s %s: only %d raw readings", code, m, len(raw.Points))
				}
				for _, l := range monitoring.Levels {
					want := map[int64]*monitoring.Rollup{}
					var order []int64
					for _, p := range raw.Points {
						b := l.Bucket(p.At.UnixMilli())
						ru := want[b]
						if ru == nil {
							ru = &monitoring.Rollup{Bucket: b, Min: p.Last, Max: p.Last, LastAt: math.MinInt64}
							want[b] = ru
							order = append(order, b)
						}
						ru.N++
						ru.Sum += p.Last
						ru.Min, ru.Max = min(ru.Min, p.Last), max(ru.Max, p.Last)
						if at := p.At.UnixMilli(); at > ru.LastAt {
							ru.LastAt, ru.Last = at, p.Last
						}
					}
					got, err := w.s.FindSeries(a, d, m, time.UnixMilli(order[0]), time.UnixMilli(order[len(order)-1]+1), l.Name)
					if err != nil {
						t.Fatal(err)
					}
					if len(got.Points) != len(want) {
						t.Fatalf("%s %s %s: %d buckets, want %d", code, m, l.Name, len(got.Points), len(want))
					}
					for _, p := range got.Points {
						wr := want[p.At.UnixMilli()]
						if wr == nil || p.N != wr.N || p.Min != wr.Min || p.Max != wr.Max || math.Abs(p.Avg-wr.Sum/float64(wr.N)) > 1e-9 {
							t.Fatalf("%s %s %s bucket %s: got %+v, want %+v", code, m, l.Name, p.At, p, wr)
						}
						// Readings sharing the last millisecond: any of them may be last.
						if wr.LastAt != lastAt(raw.Points, p.At, l) {
							t.Fatalf("last of %s", p.At)
						}
						if !lastAmong(raw.Points, wr.LastAt, p.Last) {
							t.Fatalf("%s %s %s bucket %s: last %v is no reading at the last time", code, m, l.Name, p.At, p.Last)
						}
					}
				}
			}
		}
		// Day buckets start at midnight China time.
		if b := monitoring.Day.Bucket(time.Date(2026, 12, 7, 15, 59, 0, 0, time.UTC).UnixMilli()); time.UnixMilli(b).UTC() != time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC) {
			t.Fatalf("day bucket %s", time.UnixMilli(b).UTC())
		}
	})
}

func lastAt(ps []monitoring.Point, bucket time.Time, l monitoring.Level) int64 {
	last := int64(math.MinInt64)
	for _, p := range ps {
		if l.Bucket(p.At.UnixMilli()) == bucket.UnixMilli() {
			last = max(last, p.At.UnixMilli())
		}
	}
	return last
}

func lastAmong(ps []monitoring.Point, at int64, v float64) bool {
	for _, p := range ps {
		if p.At.UnixMilli() == at && p.Last == v {
			return true
		}
	}
	return false
}

// TestRetention: the retention pass deletes, in small batches, exactly what is older than each
// level's retention, and nothing of another tenant.
func TestRetention(t *testing.T) {
	eachDialect(t, func(t *testing.T, w *world) {
		a := w.e.A
		if _, err := w.s.UpdateSettings(a, monitoring.Settings{RawDays: 1, MinuteDays: 2, HourDays: 4, DayDays: 0, OfflineMinutes: 10}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.UpdateSettings(a, monitoring.Settings{RawDays: 5, MinuteDays: 2, HourDays: 4, OfflineMinutes: 10}); errs.FieldOf(err) != "minute_days" {
			t.Fatalf("minutes kept shorter than raw: %v", err)
		}
		tok := w.mustDevice(t, a, "GAS-1", "gas")
		tokB := w.mustDevice(t, w.e.B, "GAS-1", "gas")
		tok2 := w.mustDevice(t, a, "GAS-2", "gas") // sends only in the last 3 days
		t0 := w.clk.Now()
		// A reading every 6 hours for 10 days, each sent when it was made, in A and in B.
		for h := 240; h >= 0; h -= 6 {
			at := t0.Add(-time.Duration(h) * time.Hour)
			w.clk.Set(at)
			xs := []struct {
				ctx context.Context
				tok string
			}{{a, tok}, {w.e.B, tokB}}
			if h <= 72 {
				xs = append(xs, xs[0])
				xs[2].tok = tok2
			}
			for _, x := range xs {
				if res, err := w.s.Ingest(x.ctx, x.tok, monitoring.Batch{Readings: []monitoring.ReadingInput{{Metric: "concentration", Value: 1, At: at}, {Metric: "concentration", Value: 2, At: at.Add(time.Second)}}}); err != nil || res.Accepted != 2 {
					t.Fatalf("ingest at %s: %+v %v", at, res, err)
				}
			}
		}
		w.clk.Set(t0)
		var countOf func(ctx context.Context, code, res string, from time.Time) int
		removed, err := w.s.Expire(a, 3)
		if err != nil {
			t.Fatal(err)
		}
		// Raw: readings older than 1 day go (2 per 6 hours, 41 times, 5 times within a day).
		count := func(ctx context.Context, res string, from time.Time) int {
			return countOf(ctx, "GAS-1", res, from)
		}
		countOf = func(ctx context.Context, code, res string, from time.Time) int {
			d, err := w.s.FindDeviceByCode(ctx, code)
			if err != nil {
				t.Fatal(err)
			}
			ser, err := w.s.FindSeries(ctx, d, "concentration", from, t0.Add(time.Hour), res)
			if err != nil {
				t.Fatal(err)
			}
			return len(ser.Points)
		}
		old := t0.Add(-300 * time.Hour)
		for _, tc := range []struct {
			res  string
			want int
		}{{"raw", 10}, {"minute", 9}, {"hour", 17}, {"day", 11}} {
			if got := count(a, tc.res, old); got != tc.want {
				t.Errorf("%s: %d left, want %d", tc.res, got, tc.want)
			}
		}
		// GAS-2: 13 times in the last 3 days, 5 of them within the last day, 9 within 2 days.
		for _, tc := range []struct {
			res  string
			want int
		}{{"raw", 10}, {"minute", 9}, {"hour", 13}, {"day", 4}} {
			if got := countOf(a, "GAS-2", tc.res, old); got != tc.want {
				t.Errorf("GAS-2 %s: %d left, want %d", tc.res, got, tc.want)
			}
		}
		if removed.Raw != 82-10+26-10 || removed.Minute != 41-9+13-9 || removed.Hour != 41-17 || removed.Day != 0 || removed.Batches != 41-5+13-5 {
			t.Errorf("removed %+v", removed)
		}
		// B keeps everything (its own defaults: 30 days raw).
		if got := count(w.e.B, "raw", old); got != 82 {
			t.Errorf("B's raw: %d, want 82", got)
		}
		// A second pass has nothing to do.
		if again, err := w.s.Expire(a, 3); err != nil || again.Total() != 0 {
			t.Fatalf("again %+v %v", again, err)
		}
	})
}
