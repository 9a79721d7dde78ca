package open311

import (
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
)

// TestSurveyInputCheck: the answer's fields are refused as invalid, never let through to SQL.
func TestSurveyInputCheck(t *testing.T) {
	for _, tc := range []struct {
		solved, rating, comment string
		ok                      bool
		field                   string
	}{
		{"yes", "5", "", true, ""},
		{"NO", " 1 ", "  还是坏的  ", true, ""},
		{"true", "3", strings.Repeat("好", MaxSurveyComment), true, ""},
		{"", "3", "", false, "solved"},
		{"maybe", "3", "", false, "solved"},
		{"yes", "0", "", false, "rating"},
		{"yes", "6", "", false, "rating"},
		{"yes", "", "", false, "rating"},
		{"yes", "4.5", "", false, "rating"},
		{"yes", "٣", "", false, "rating"},
		{"yes", "\x00", "", false, "rating"},
		{"yes", "4", "a\x00b", false, "comment"},
		{"yes", "4", "\xff\xfe", false, "comment"},
		{"yes", "4", strings.Repeat("好", MaxSurveyComment+1), false, "comment"},
	} {
		in := SurveyInput{Solved: tc.solved, Rating: tc.rating, Comment: tc.comment}
		_, _, _, err := in.check()
		if tc.ok != (err == nil) {
			t.Errorf("%q %q %.20q: %v", tc.solved, tc.rating, tc.comment, err)
			continue
		}
		if !tc.ok && (!errs.Is(err, errs.Invalid) || !strings.Contains(errs.MessageOf(err), tc.field) && errs.FieldOf(err) != tc.field) {
			t.Errorf("%q %q: %v, want invalid %s", tc.solved, tc.rating, err, tc.field)
		}
	}
}

// FuzzSurveyInput: any answer is taken or refused as invalid, never with a NUL byte or a rating
// outside 1–5 let through.
func FuzzSurveyInput(f *testing.F) {
	f.Add("yes", "5", "好")
	f.Add("no", "0", "a\x00b")
	f.Add("1", "٥", "\xff")
	f.Fuzz(func(t *testing.T, solved, rating, comment string) {
		in := SurveyInput{Solved: solved, Rating: rating, Comment: comment}
		_, r, c, err := in.check()
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("%v, want invalid", err)
			}
			return
		}
		if r < 1 || r > 5 || strings.IndexByte(c, 0) >= 0 || len([]rune(c)) > MaxSurveyComment {
			t.Fatalf("taken: rating %d comment %q", r, c)
		}
	})
}
