package exchange

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/cityops/cityops/internal/errs"
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
