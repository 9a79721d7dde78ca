package evaluation_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"
)

// testFont is the font the bulletins' PDFs are set in (Debian's fonts-droid-fallback).
const testFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// MustPDFText is the text of a PDF (pdftotext from poppler-utils).
func MustPDFText(tb testing.TB, pdf []byte) string {
	tb.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		tb.Fatal("pdftotext is missing: install poppler-utils (apt-get install -y poppler-utils) to read the bulletins' PDFs")
	}
	in := filepath.Join(tb.TempDir(), "b.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		tb.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// MustFont skips nothing: the bulletins need their font, and the test says how to get it.
func MustFont(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(testFont); err != nil {
		tb.Fatalf("the PDF font %s is missing: install fonts-droid-fallback", testFont)
	}
}

// TestBulletinPublish: a month with cases makes a bulletin whose workbook and PDF hold the
// Chinese headings and the figures; publishing it again is version 2 and both stay readable;
// the table refuses any change or removal; a bad period names the field.
func TestBulletinPublish(t *testing.T) {
	MustFont(t)
	eachDialect(t, func(t *testing.T, e *platformtest.Env) {
		w := newWorld(t, e, time.Date(2026, 5, 6, 1, 0, 0, 0, time.UTC))
		at := func(day, hh, mm int) { w.clk.set(time.Date(2026, 5, day, hh, mm, 0, 0, clock.China)) }
		none := cases.ActionInput{}
		at(6, 9, 0)
		c1 := w.report(w.ins[0], cases.FromInspector, "event", "0102", g101, false)
		at(6, 9, 10)
		c1 = w.act(w.acc[0], c1, cases.Accept, none)
		at(6, 9, 20)
		w.act(w.sl[0], c1, cases.File, none)
		at(7, 10, 0)
		w.report(w.acc[0], cases.FromHotline, "event", "0102", g102, false)
		at(7, 10, 5)
		w.report(w.ins[1], cases.FromInspector, "component", "0101", g102, false)

		at(20, 12, 0)
		b := evaluation.NewBulletins(w.ev, nil, testFont)
		for _, bad := range []string{"2026-13", "2026", "2026-05-01", "", "2026-Q5", "2027-01"} {
			_, err := b.Publish(e.A, bad, nil)
			if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "period" {
				t.Errorf("period %q: got %v, want invalid naming period", bad, err)
			}
		}
		v1, err := b.Publish(w.leader.ctx, "2026-05", nil)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 || v1.Kind != evaluation.KindMonth || v1.PublishedBy != w.leader.email {
			t.Fatalf("first: %+v", v1)
		}
		at(21, 12, 0)
		w.report(w.ins[0], cases.FromInspector, "event", "0102", g101, false)
		at(21, 12, 5)
		v2, err := b.Publish(e.A, "2026-05", nil)
		if err != nil || v2.Version != 2 || v2.PublishedBy != "system" {
			t.Fatalf("correction: %+v %v", v2, err)
		}
		q, err := b.Publish(e.A, "2026-Q2", nil)
		if err != nil || q.Version != 1 || q.Kind != evaluation.KindQuarter {
			t.Fatalf("quarter: %+v %v", q, err)
		}
		list, err := b.FindBulletins(e.A)
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %d %v", len(list), err)
		}

		for _, tc := range []struct {
			id       string
			reported string
		}{{v1.ID, "3"}, {v2.ID, "4"}} {
			got, err := b.FindBulletinByID(e.A, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			x, err := excelize.OpenReader(bytes.NewReader(got.XLSX))
			if err != nil {
				t.Fatal(err)
			}
			sheets := x.GetSheetList()
			if len(sheets) < 9 || sheets[0] != "总体情况" || !strings.Contains(strings.Join(sheets, ","), "专业部门") {
				t.Fatalf("sheets: %v", sheets)
			}
			rows, err := x.GetRows("总体情况")
			if err != nil {
				t.Fatal(err)
			}
			all := joinRows(rows)
			for _, want := range []string{"楚雄市 2026-05 综合评价通报", "统计周期", "2026-05-01 — 2026-05-31", "上报数", "立案数", "结案率", "案件来源", "高发问题类别", "0102"} {
				if !strings.Contains(all, want) {
					t.Errorf("v%d xlsx lacks %q:\n%s", got.Version, want, all)
				}
			}
			if i := indexRow(rows, "上报数"); i < 0 || rows[i+1][0] != tc.reported || rows[i+1][1] != "1" {
				t.Errorf("v%d totals: got %v, want %s reported, 1 filed", got.Version, rows[i+1], tc.reported)
			}
			grids, _ := x.GetRows("单元网格")
			if len(grids) < 2 || grids[0][0] != "排名" || grids[0][2] != "综合得分" || !strings.Contains(joinRows(grids), "鹿城一号网格") {
				t.Errorf("v%d grids sheet: %v", got.Version, grids)
			}
			x.Close()

			text := MustPDFText(t, got.PDF)
			for _, want := range []string{"楚雄市", "综合评价通报", "2026-05", "总体情况", "专业部门", "单元网格", "鹿城一号网格", "排名", "综合得分", "生成时间"} {
				if !strings.Contains(text, want) {
					t.Errorf("v%d pdf lacks %q:\n%s", got.Version, want, text)
				}
			}
			if !strings.Contains(text, "版本") {
				t.Errorf("pdf lacks the version")
			}
		}

		for _, stmt := range []string{"UPDATE evaluation_bulletins SET version = 9", "DELETE FROM evaluation_bulletins"} {
			err := e.Store.Tx(e.A, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.ExecContext(ctx, stmt)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "immutable") {
				t.Errorf("%s: got %v, want refused", stmt, err)
			}
		}
		if n := len(e.MustAudit(t, e.TenantA, "evaluation.bulletin")); n != 3 {
			t.Errorf("audit: %d entries, want 3", n)
		}
		if _, err := b.FindBulletinByID(e.B, v1.ID); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("B reads A's bulletin: %v", err)
		}
	})
}

// TestBulletinFontMissing: without its font a bulletin is refused as unavailable, naming the
// file, and nothing is kept.
func TestBulletinFontMissing(t *testing.T) {
	e := platformtest.MustEnv(t, "sqlite", evaluation.Module(nil, nil, nil))
	s := evaluation.NewService(e.Store, func() time.Time { return time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC) })
	_, err := evaluation.NewBulletins(s, nil, "/nowhere/font.ttf").Publish(e.A, "2026-05", nil)
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(errs.MessageIn(err, "zh-CN"), "/nowhere/font.ttf") {
		t.Fatalf("got %v, want unavailable naming the font", err)
	}
	if list, err := evaluation.NewBulletins(s, nil, testFont).FindBulletins(e.A); err != nil || len(list) != 0 {
		t.Fatalf("kept: %v %v", list, err)
	}
}

func joinRows(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	return b.String()
}

func indexRow(rows [][]string, first string) int {
	for i, r := range rows {
		if len(r) > 0 && r[0] == first && i+1 < len(rows) {
			return i
		}
	}
	return -1
}
