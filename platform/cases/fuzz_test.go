package cases

import "testing"

// FuzzCursor: any string given as a cursor is refused cleanly or read back to the position it
// encodes; a cursor the API gave out always reads back.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"", "bogus", encodeCursor(202600000001), "YzE6", "YzE6LTE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, err := decodeCursor(s)
		if err == nil && encodeCursor(seq) != s {
			if again, err := decodeCursor(encodeCursor(seq)); err != nil || again != seq {
				t.Fatalf("%q reads as %d, which does not round-trip", s, seq)
			}
		}
	})
}

// FuzzSniff: the photo check never panics, and only the three image types pass.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"", "\xff\xd8\xff", "\x89PNG\r\n\x1a\n", "RIFF\x00\x00\x00\x00WEBP", "<svg/>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch sniff(b) {
		case "", "image/jpeg", "image/png", "image/webp":
		default:
			t.Fatalf("sniff(%q) is not one of the accepted types", b)
		}
	})
}
