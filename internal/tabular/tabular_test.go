package tabular

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"golang.org/x/text/encoding/simplifiedchinese"
)

func TestDecodeText(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().String("日期,类型\n")
	for in, want := range map[string]string{
		"\xef\xbb\xbf日期,类型\n": "日期,类型\n", // UTF-8 with BOM
		"日期,类型\n":             "日期,类型\n",
		gbk:                   "日期,类型\n",
	} {
		got, err := DecodeText([]byte(in))
		if err != nil || got != want {
			t.Errorf("DecodeText(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"\xff\xfea\x00", "a\x00b", "\x81\x20"} {
		if _, err := DecodeText([]byte(bad)); !errs.Is(err, errs.Invalid) {
			t.Errorf("DecodeText(%q) accepted", bad)
		}
	}
}

func TestIndexNamesMissingColumns(t *testing.T) {
	tb, err := Read([]byte("日期,名称\n2026-01-01,元旦\n"), CSV)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tb.Index([]Column{{Name: "date", Aliases: []string{"日期"}, Required: true}, {Name: "kind", Aliases: []string{"类型"}, Required: true}})
	if err == nil || !strings.Contains(errs.MessageOf(err), "kind (类型)") {
		t.Fatalf("missing column: %v", err)
	}
}

// FuzzRead: any bytes give a table or a coded error, never a panic, and cells are UTF-8.
func FuzzRead(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("\xef\xbb\xbf\"x\"\"y\",z\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, format := range []Format{CSV, XLSX} {
			tb, err := Read(data, format)
			if err != nil {
				if errs.CodeOf(err) == errs.Internal {
					t.Fatalf("uncoded error %v", err)
				}
				continue
			}
			for _, r := range append([][]string{tb.Header}, tb.Rows...) {
				for _, c := range r {
					if format == CSV && !utf8.ValidString(c) {
						t.Fatalf("cell %q is not UTF-8", c)
					}
				}
			}
		}
	})
}

var (
	msgTestRow = msg.New("tabular.test_row",
		"Row value %q and %d.",
		"行值 %q 与 %d。")
	msgTestErr = msg.New("tabular.test_err",
		"The cell %s is wrong.",
		"单元格 %s 有误。")
)

// TestReportAdd: a problem says its message in both languages, from a message or from a coded
// error; an uncoded error never shows its own text.
func TestReportAdd(t *testing.T) {
	var r Report
	r.Add(2, "code", "k", msgTestRow, "x", 7)
	r.AddErr(3, "date", "d", errs.Field("date", msgTestErr, "B3"))
	r.AddErr(4, "", "", errors.New("pq: secret detail"))
	want := []Problem{
		{Row: 2, Column: "code", Key: "k", Message: `Row value "x" and 7.`, MessageZH: `行值 "x" 与 7。`},
		{Row: 3, Column: "date", Key: "d", Message: "The cell B3 is wrong.", MessageZH: "单元格 B3 有误。"},
		{Row: 4, Message: errs.MessageIn(errors.New(""), msg.EN), MessageZH: errs.MessageIn(errors.New(""), msg.ZH)},
	}
	if len(r.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d", len(r.Problems), len(want))
	}
	for i, w := range want {
		if got := r.Problems[i]; got != w {
			t.Errorf("problem %d: got %+v, want %+v", i, got, w)
		}
	}
	if strings.Contains(r.Problems[2].Message, "secret") || r.OK() || r.Reject() == nil {
		t.Errorf("report: %+v", r)
	}
}
