package cases_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

var jpeg = []byte("\xff\xd8\xff\xe0 a photo of a missing manhole cover")

// TestReportOnce: a key makes one case however often (and however concurrently) it is sent,
// with its photos once; another tenant's same key is another case; a key taken by another
// inspector is refused.
func TestReportOnce(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		u := &usage{}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, Usage: u, PhotoDir: t.TempDir(), Now: clk.now})
		insp := as(e.TenantA, uuid.New(), tenants.Inspector)
		key := uuid.NewString()
		in := cases.ReportInput{Kind: "component", ClassCode: "0101", Description: "井盖缺失", Lon: 101.5, Lat: 25}
		const n = 6
		var wg sync.WaitGroup
		ids := make(chan string, n)
		created := make(chan bool, n)
		for range n {
			wg.Go(func() {
				c, made, err := s.ReportOnce(insp, key, in, [][]byte{jpeg})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- c.ID
				created <- made
				if len(c.Photos) != 1 {
					t.Errorf("photos %d, want 1", len(c.Photos))
				}
			})
		}
		wg.Wait()
		close(ids)
		close(created)
		first := ""
		for id := range ids {
			if first == "" {
				first = id
			}
			if id != first {
				t.Fatalf("two cases for one key: %s and %s", first, id)
			}
		}
		made := 0
		for m := range created {
			if m {
				made++
			}
		}
		if made != 1 {
			t.Fatalf("%d answers said created, want 1", made)
		}
		page, err := s.FindCases(insp, cases.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Cases) != 1 {
			t.Fatalf("%d cases, want 1", len(page.Cases))
		}
		if len(u.keys) != 1 {
			t.Fatalf("usage %v, want one case metered", u.keys)
		}
		// A retry with a second photo binds it, the first not again.
		png := []byte("\x89PNG\r\n\x1a\n a second photo")
		c, madeAgain, err := s.ReportOnce(insp, key, in, [][]byte{jpeg, png})
		if err != nil || madeAgain || c.ID != first || len(c.Photos) != 2 {
			t.Fatalf("retry with a second photo: %v %v %v", err, madeAgain, c)
		}
		// The same key in tenant B is B's own case.
		cb, madeB, err := s.ReportOnce(as(e.TenantB, uuid.New(), tenants.Inspector), key, cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 102.2, Lat: 25.5}, nil)
		if err != nil || !madeB || cb.ID == first {
			t.Fatalf("tenant B with the same key: %v %v", err, madeB)
		}
		// Another inspector of A with A's key: refused, nothing said about the case.
		if _, _, err := s.ReportOnce(as(e.TenantA, uuid.New(), tenants.Inspector), key, in, nil); !errs.Is(err, errs.Invalid) {
			t.Fatalf("another inspector's key: %v", err)
		}
		for _, bad := range []string{"", "nope", "0B6F3C1E-8D2A-4F7B-9C1D-2E3F4A5B6C7D0", "{" + uuid.NewString() + "}"} {
			if _, _, err := s.ReportOnce(insp, bad, in, nil); !errs.Is(err, errs.Invalid) {
				t.Fatalf("key %q: %v", bad, err)
			}
		}
		// A bad photo refuses the report before anything is written.
		k2 := uuid.NewString()
		if _, _, err := s.ReportOnce(insp, k2, in, [][]byte{[]byte("<svg/>")}); !errs.Is(err, errs.Unsupported) {
			t.Fatalf("svg photo: %v", err)
		}
		if page, _ := s.FindCases(insp, cases.Filter{}); len(page.Cases) != 1 {
			t.Fatalf("a refused report left a case: %d", len(page.Cases))
		}
	})
}

// TestActOnceAndTracks: a queued 核实 sent twice acts once; track batches are idempotent, a
// day's track has its length, and who may see tracks.
func TestActOnceAndTracks(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		clk := &clock{t: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: fakeCipher{}, PhotoDir: t.TempDir(), Now: clk.now})
		inspID := uuid.New()
		insp := as(e.TenantA, inspID, tenants.Inspector)
		acc := as(e.TenantA, uuid.New(), tenants.Acceptor)
		c, err := s.Report(acc, cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25})
		if err != nil {
			t.Fatal(err)
		}
		if c, err = s.Act(acc, c.ID, cases.SendVerify, cases.ActionInput{Version: c.Version}); err != nil {
			t.Fatal(err)
		}
		key := uuid.NewString()
		v := c.Version
		var wg sync.WaitGroup
		errc := make(chan error, 3)
		for range 3 {
			wg.Go(func() {
				_, _, err := s.ActOnce(insp, key, c.ID, cases.Verify, cases.ActionInput{Version: v, Reason: "属实"})
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("a retried verify: %v", err)
			}
		}
		got, err := s.FindCaseByID(insp, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		verifies := 0
		for _, ev := range got.Events {
			if ev.Action == cases.Verify {
				verifies++
			}
		}
		if got.State != cases.Accepted || verifies != 1 {
			t.Fatalf("state %s with %d verify events", got.State, verifies)
		}

		// Tracks: 3 points ~111 m apart in latitude, sent twice under one key.
		at := clk.now().Add(-30 * time.Minute)
		batch := cases.TrackBatchInput{Points: []cases.TrackPoint{
			{At: at, Lon: 101.5, Lat: 25.0, Accuracy: 8},
			{At: at.Add(time.Minute), Lon: 101.5, Lat: 25.001, Accuracy: 8},
			{At: at.Add(2 * time.Minute), Lon: 101.5, Lat: 25.002, Accuracy: 8},
		}}
		tk := uuid.NewString()
		for i, want := range []bool{true, false} {
			b, err := s.RecordTrack(insp, tk, batch)
			if err != nil || b.Created != want || b.Points != 3 {
				t.Fatalf("batch %d: %v %+v", i, err, b)
			}
		}
		lead := as(e.TenantA, uuid.New(), tenants.ShiftLead)
		ts, err := s.FindTracks(lead, clk.now())
		if err != nil {
			t.Fatal(err)
		}
		if len(ts) != 1 || len(ts[0].Points) != 3 || ts[0].InspectorID != inspID.String() || ts[0].Meters < 220 || ts[0].Meters > 225 {
			t.Fatalf("tracks: %+v", ts)
		}
		// Tenant B's shift lead sees none of A's; a handler may not look; the prefecture's
		// read-only scope neither; an acceptor cannot record.
		if ts, err := s.FindTracks(as(e.TenantB, uuid.New(), tenants.ShiftLead), clk.now()); err != nil || len(ts) != 0 {
			t.Fatalf("B's shift lead: %v %v", ts, err)
		}
		if _, err := s.FindTracks(as(e.TenantA, uuid.New(), tenants.Handler), clk.now()); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a handler: %v", err)
		}
		ro := tenants.WithScope(context.Background(), &tenants.Scope{Tenant: e.TenantA, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true})
		if _, err := s.FindTracks(ro, clk.now()); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("read-only scope: %v", err)
		}
		if _, err := s.RecordTrack(acc, uuid.NewString(), batch); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("an acceptor records: %v", err)
		}
		// Bad points.
		for name, p := range map[string]cases.TrackPoint{
			"outside China": {At: at, Lon: 2.35, Lat: 48.85},
			"future":        {At: clk.now().Add(time.Hour), Lon: 101.5, Lat: 25},
			"no time":       {Lon: 101.5, Lat: 25},
			"accuracy":      {At: at, Lon: 101.5, Lat: 25, Accuracy: -1},
		} {
			if _, err := s.RecordTrack(insp, uuid.NewString(), cases.TrackBatchInput{Points: []cases.TrackPoint{p}}); !errs.Is(err, errs.Invalid) {
				t.Fatalf("%s: %v", name, err)
			}
		}
		// The inspector sees their own track.
		if ts, err := s.FindTracks(insp, clk.now()); err != nil || len(ts) != 1 {
			t.Fatalf("own track: %v %v", ts, err)
		}
	})
}
