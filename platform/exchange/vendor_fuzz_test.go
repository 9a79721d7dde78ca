package exchange

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/paulmach/orb"
)

// FuzzVendorRecords: the readers of vendors' files never panic, and refuse what they cannot
// read with a coded error (a 4xx), never another one.
func FuzzVendorRecords(f *testing.F) {
	for _, name := range []string{"szcg-a.csv", "szcg-b.json"} {
		b, err := os.ReadFile("testdata/vendors/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, name == "szcg-b.json")
	}
	f.Add([]byte("案件编号,小类\n\"a,b"), false)
	f.Add([]byte("[{\"流转记录\":[1,null,{}]}, 3]"), true)
	f.Add([]byte{0xFF, 0xFE, 0, 0}, false)
	maps := map[bool]*Mapping{}
	for json, name := range map[bool]string{false: "szcg-a.mapping.json", true: "szcg-b.mapping.json"} {
		b, err := os.ReadFile("testdata/vendors/" + name)
		if err != nil {
			f.Fatal(err)
		}
		if maps[json], err = ParseMapping(b); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, json bool) {
		format := VendorCSV
		if json {
			format = VendorJSON
		}
		rr, closer, err := newRecordReader(bytes.NewReader(data), format, maps[json])
		if err != nil {
			if errs.CodeOf(err) == errs.Internal {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		defer closer.Close()
		for range 10_000 {
			rec, err := rr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if errs.CodeOf(err) == errs.Internal {
					t.Fatalf("uncoded error: %v", err)
				}
				return
			}
			if rec.row <= 0 || len(rec.values) == 0 {
				t.Fatalf("record %+v", rec)
			}
		}
	})
}

// FuzzVendorSheetRecords: the reader of XLSX files with the history on a sheet of its own never
// panics, refuses what it cannot read with a coded error, and hands out every history row it read
// once: to its record, or as a leftover.
func FuzzVendorSheetRecords(f *testing.F) {
	b, err := os.ReadFile("testdata/vendors/szcg-c.xlsx")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b, "流转记录")
	f.Add(b, "2")
	f.Add(b[:len(b)/2], "流转记录")
	f.Add([]byte("PK\x03\x04"), "1")
	mb, err := os.ReadFile("testdata/vendors/szcg-c.mapping.json")
	if err != nil {
		f.Fatal(err)
	}
	m, err := ParseMapping(mb)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, sheet string) {
		mm := *m
		mm.History.Sheet = sheet
		if sheet == "" {
			return
		}
		rr, closer, err := newRecordReader(bytes.NewReader(data), VendorXLSX, &mm)
		if err != nil {
			if errs.CodeOf(err) == errs.Internal {
				t.Fatalf("uncoded error: %v", err)
			}
			return
		}
		defer closer.Close()
		sr := rr.(*sheetRecords)
		held := 0
		for _, rows := range sr.index {
			held += len(rows)
		}
		held += len(sr.noID)
		taken := 0
		for range 10_000 {
			rec, err := rr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				if errs.CodeOf(err) == errs.Internal {
					t.Fatalf("uncoded error: %v", err)
				}
				return
			}
			if rec.row <= 0 {
				t.Fatalf("record %+v", rec)
			}
			taken += len(rec.history)
		}
		if left := len(sr.leftovers()); taken+left != held {
			t.Fatalf("%d history rows read, %d taken and %d left over", held, taken, left)
		}
	})
}

// FuzzVendorGeometry: a grid's geometry cell never panics the reader; what it accepts is a
// polygon whose rings are closed.
func FuzzVendorGeometry(f *testing.F) {
	for _, s := range []string{
		"POLYGON((101.49 24.99,101.54 24.99,101.54 25.04,101.49 25.04,101.49 24.99))",
		"MULTIPOLYGON(((1 1,2 1,2 2,1 1)))",
		"101.495,24.995;101.525,24.995;101.525,25.025",
		`{"type":"Polygon","coordinates":[[[101.5,25],[101.51,25],[101.51,25.01],[101.5,25]]]}`,
		`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}`,
		"POLYGON((", ";;", "{", "1 2 3;4",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, ok := parseGeometry(s)
		if !ok {
			return
		}
		if g == nil {
			t.Fatalf("%q: accepted as nothing", s)
		}
		if p, isPolygon := g.(orb.Polygon); isPolygon && !strings.HasPrefix(strings.TrimSpace(s), "{") && !strings.HasPrefix(strings.ToUpper(strings.TrimSpace(s)), "POLYGON") {
			if r := p[0]; len(r) == 0 || r[0] != r[len(r)-1] {
				t.Fatalf("%q: ring not closed: %v", s, r)
			}
		}
	})
}
