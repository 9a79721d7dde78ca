package exchange

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/google/uuid"
)

// TestSamplesHeld: a user's sample is theirs (another user, or the same user in another tenant,
// does not get it), named by its token, replaced by their next upload, gone an hour after its
// last use, and the oldest go first when too many or too large are held.
func TestSamplesHeld(t *testing.T) {
	now := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	ss := newSamples(func() time.Time { return now })
	tenantA, tenantB, ann, bob := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	small := &VendorSample{Data: make([]byte, 10)}
	tok := ss.put(sampleKey{tenantA, ann}, small)
	if ss.get(sampleKey{tenantA, ann}, tok) != small {
		t.Fatal("the user's own sample")
	}
	for _, k := range []sampleKey{{tenantA, bob}, {tenantB, ann}} {
		if ss.get(k, tok) != nil {
			t.Fatalf("%v got another's sample", k)
		}
	}
	if ss.get(sampleKey{tenantA, ann}, "other") != nil {
		t.Fatal("a wrong token")
	}
	tok2 := ss.put(sampleKey{tenantA, ann}, &VendorSample{})
	if tok2 == tok || ss.get(sampleKey{tenantA, ann}, tok) != nil {
		t.Fatal("the next upload did not replace the sample")
	}
	now = now.Add(50 * time.Minute)
	if ss.get(sampleKey{tenantA, ann}, tok2) == nil {
		t.Fatal("gone before its time")
	}
	now = now.Add(61 * time.Minute)
	if ss.get(sampleKey{tenantA, ann}, tok2) != nil {
		t.Fatal("kept past an hour unused")
	}

	// Too many: the oldest unused goes.
	first := sampleKey{tenantA, uuid.New()}
	firstTok := ss.put(first, small)
	for range maxSamples - 1 {
		now = now.Add(time.Second)
		ss.put(sampleKey{tenantA, uuid.New()}, small)
	}
	if ss.get(first, firstTok) == nil {
		t.Fatal("evicted while within the bound")
	}
	now = now.Add(time.Second)
	ss.put(sampleKey{tenantA, uuid.New()}, small)
	if len(ss.m) != maxSamples {
		t.Fatalf("%d samples held, want %d", len(ss.m), maxSamples)
	}
	// Too large: room is made for a big one.
	big := &VendorSample{Data: make([]byte, maxSampleBytes-5)}
	k := sampleKey{tenantB, bob}
	bigTok := ss.put(k, big)
	if ss.get(k, bigTok) != big || len(ss.m) != 1 {
		t.Fatalf("the big sample: %d held", len(ss.m))
	}
}

// FuzzVendorSample: reading a sample never panics, and refuses what it cannot read with a coded
// error (a 4xx on the page), never another one; what it reads stays within its bounds.
func FuzzVendorSample(f *testing.F) {
	for _, name := range []string{"szcg-a.csv", "szcg-b.json"} {
		b, err := os.ReadFile("testdata/vendors/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name == "szcg-b.json")
	}
	f.Add([]byte("案件编号,小类\n\"a,b"), false)
	f.Add([]byte("[{\"流转记录\":[{\"a\":[1]},{}]}, {}]"), true)
	f.Add([]byte{0xFF, 0xFE, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, json bool) {
		name := "f.csv"
		if json {
			name = "f.json"
		}
		s, err := ReadSample(name, data)
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) || e.Code == errs.Internal {
				t.Fatalf("an uncoded error: %v", err)
			}
			return
		}
		if len(s.Columns) == 0 || len(s.Columns) > maxColumns || len(s.First) > sampleFirst {
			t.Fatalf("the sample's bounds: %d columns, %d first rows", len(s.Columns), len(s.First))
		}
		for _, c := range s.Columns {
			if vals, _ := s.Values(c, false); len(vals) > maxDistinct {
				t.Fatalf("%d values of %s", len(vals), c)
			}
		}
	})
}
