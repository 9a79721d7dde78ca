package evaluation

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/msg"
	"github.com/xuri/excelize/v2"
)

// A bulletin's documents are official papers of the city in Chinese, whatever the language of
// the person who publishes them.
func zh(id string) string { return label(msg.ZH, id) }

// bulletinSources are the case sources in the order the documents list them.
var bulletinSources = []string{"inspector", "citizen", "hotline", "video", "sensor", "referral", "media"}

// docTable is one table of a bulletin: its title, headings and rows (numbers kept as numbers for
// the spreadsheet; the PDF prints them).
type docTable struct {
	Title string
	Head  []string
	Rows  [][]any
}

// bulletinHeader is the lines under a bulletin's title: period, tenant, scheme, version, time.
func bulletinHeader(c *BulletinContent) [][2]string {
	p := c.Figures.Period
	scheme := zh("evaluation.page.scheme_default")
	if c.Figures.Scheme.ID != "" {
		scheme = strings.Replace(zh("evaluation.page.scheme_from"), "%s", c.Figures.Scheme.EffectiveFrom, 1)
	}
	if c.Units != nil && c.Units.Scheme.ID != "" {
		scheme = strings.Replace(zh("evaluation.page.scheme_from"), "%s", c.Units.Scheme.EffectiveFrom, 1)
	}
	return [][2]string{
		{zh("evaluation.bulletin.tenant"), c.Tenant},
		{zh("evaluation.page.period"), p.Name + "（" + p.From.In(clock.China).Format(time.DateOnly) + " — " + p.Last().In(clock.China).Format(time.DateOnly) + "）"},
		{zh("evaluation.page.scheme"), scheme},
		{zh("evaluation.bulletin.version"), strconv.Itoa(c.Version)},
		{zh("evaluation.bulletin.generated"), c.PublishedAt.In(clock.China).Format("2006-01-02 15:04:05")},
	}
}

// bulletinTitle is "<tenant> <period> 综合评价通报".
func bulletinTitle(c *BulletinContent) string {
	return c.Tenant + " " + c.Figures.Period.Name + " " + zh("evaluation.bulletin.title")
}

// bulletinTables are a bulletin's tables: totals, sources, top classes, the counties (for a
// prefecture), then each object's ranking.
func bulletinTables(c *BulletinContent) []docTable {
	f := c.Figures
	totals := docTable{Title: zh("evaluation.page.totals"),
		Head: []string{zh("evaluation.page.reported"), zh("evaluation.count.filed"), zh("evaluation.count.closed"), zh("evaluation.count.closed_on_time"),
			zh("evaluation.count.inspector_reported"), zh("evaluation.indicator.close_rate") + " (%)", zh("evaluation.indicator.on_time_close_rate") + " (%)"},
		Rows: [][]any{{f.Reported, f.Filed, f.Closed, f.ClosedOnTime, f.InspectorReported, percent(Rate(f.Closed, f.Filed)), percent(Rate(f.ClosedOnTime, f.Filed))}}}
	if c.Units != nil {
		u := c.Units.Totals
		totals.Rows[0] = []any{u.Reported, u.Filed, u.Closed, u.ClosedOnTime, u.InspectorReported, percent(Rate(u.Closed, u.Filed)), percent(Rate(u.ClosedOnTime, u.Filed))}
	}
	sources := docTable{Title: zh("evaluation.page.sources"), Head: []string{zh("evaluation.bulletin.source"), zh("evaluation.bulletin.count")}}
	for _, s := range bulletinSources {
		if n := f.Sources[s]; n > 0 {
			sources.Rows = append(sources.Rows, []any{zh("cases.source." + s), n})
		}
	}
	classes := docTable{Title: zh("evaluation.page.top_classes"), Head: []string{zh("evaluation.page.class"), zh("evaluation.bulletin.count")}}
	for _, cc := range f.TopClasses {
		name := c.ClassNames[cc.Class]
		if name == "" {
			name = cc.Class
		}
		classes.Rows = append(classes.Rows, []any{name, cc.Count})
	}
	out := []docTable{totals, sources, classes}
	if c.Units != nil {
		out = append(out, rankingTable(Counties, c.Units.Weights, unitRows(c.Units)))
		if st := supervisionTable(c.Units); st != nil {
			out = append(out, *st)
		}
	}
	for _, o := range Objects {
		if rk := f.Rankings[o]; rk != nil {
			out = append(out, rankingTable(o, rk.Weights, rk.Rows))
		}
	}
	return out
}

func unitRows(cmp *Comparison) []Row {
	rows := make([]Row, len(cmp.Units))
	for i, u := range cmp.Units {
		rows[i] = u.Row
	}
	return rows
}

// rankingTable is one object's ranking: rank, name, score, each indicator (percent, its weight
// in the heading) and each count.
func rankingTable(o Object, weights map[string]float64, rows []Row) docTable {
	def := Definitions[o]
	t := docTable{Title: zh("evaluation.object." + string(o)), Head: []string{zh("evaluation.page.rank"), zh("evaluation.page.name"), zh("evaluation.page.score")}}
	for _, ind := range def.Indicators {
		t.Head = append(t.Head, zh("evaluation.indicator."+ind.ID)+" ("+strconv.FormatFloat(weights[ind.ID], 'f', -1, 64)+") %")
	}
	for _, n := range def.Counts {
		t.Head = append(t.Head, countHeading(n))
	}
	for _, r := range rows {
		line := []any{r.Rank, r.Name, rounded(r.Score, 1)}
		if r.Rank == 0 {
			line[0] = "—"
		}
		for _, ind := range def.Indicators {
			line = append(line, percent(r.Values[ind.ID]))
		}
		for _, n := range def.Counts {
			line = append(line, r.Counts[n])
		}
		t.Rows = append(t.Rows, line)
	}
	return t
}

func countHeading(n string) string {
	if n == "reported" {
		return zh("evaluation.page.reported")
	}
	return zh("evaluation.count." + n)
}

// percent is a rate in percent rounded to two decimals, "—" when absent.
func percent(v *float64) any {
	if v == nil {
		return "—"
	}
	return rounded(v, 100)
}

// rounded is *v × scale rounded to two decimals, "—" when absent.
func rounded(v *float64, scale float64) any {
	if v == nil {
		return "—"
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(*v*scale, 'f', 2, 64), 64)
	return f
}

// cellText is a table cell as the PDF prints it.
func cellText(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case string:
		if x == "—" {
			return "-" // the dash every font has
		}
		return x
	}
	return fmt.Sprint(v)
}

// sheetName is a table's sheet name: Excel allows 31 characters and none of []:*?/\.
func sheetName(s string, used map[string]bool) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 28 {
		s = string(r[:28])
	}
	name := s
	for i := 2; used[name]; i++ {
		name = s + " " + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// bulletinXLSX is the bulletin as a workbook: the first sheet (总体情况) has the title, the
// header lines, the totals, the sources and the top classes; then a sheet per ranking.
func bulletinXLSX(c *BulletinContent) ([]byte, error) {
	x := excelize.NewFile()
	defer x.Close()
	used := map[string]bool{}
	tables := bulletinTables(c)
	first := sheetName(zh("evaluation.page.totals"), used)
	if err := x.SetSheetName("Sheet1", first); err != nil {
		return nil, err
	}
	bold, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	title, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}})
	if err != nil {
		return nil, err
	}
	row := 1
	put := func(sheet string, values []any, style int) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := x.SetSheetRow(sheet, cell, &values); err != nil {
			return err
		}
		if style != 0 {
			end, _ := excelize.CoordinatesToCellName(max(len(values), 1), row)
			if err := x.SetCellStyle(sheet, cell, end, style); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	if err := put(first, []any{bulletinTitle(c)}, title); err != nil {
		return nil, err
	}
	for _, h := range bulletinHeader(c) {
		if err := put(first, []any{h[0], h[1]}, 0); err != nil {
			return nil, err
		}
	}
	for _, t := range tables[:3] {
		row++
		if err := put(first, []any{t.Title}, bold); err != nil {
			return nil, err
		}
		if err := put(first, strings2any(t.Head), bold); err != nil {
			return nil, err
		}
		for _, r := range t.Rows {
			if err := put(first, r, 0); err != nil {
				return nil, err
			}
		}
	}
	if err := x.SetColWidth(first, "A", "G", 16); err != nil {
		return nil, err
	}
	for _, t := range tables[3:] {
		sheet := sheetName(t.Title, used)
		if _, err := x.NewSheet(sheet); err != nil {
			return nil, err
		}
		row = 1
		if err := put(sheet, strings2any(t.Head), bold); err != nil {
			return nil, err
		}
		for _, r := range t.Rows {
			if err := put(sheet, r, 0); err != nil {
				return nil, err
			}
		}
		if err := x.SetColWidth(sheet, "B", "B", 24); err != nil {
			return nil, err
		}
		if err := x.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func strings2any(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// The PDF's page: A4 landscape, in millimetres.
const (
	pdfMargin = 12.0
	pdfWidth  = 297.0 - 2*pdfMargin
	pdfLine   = 6.0
)

// bulletinPDF is the bulletin set in font (a TrueType font with CJK glyphs; fpdf embeds the
// subset used): the title and header lines, then every table, the ranking tables' headings
// wrapped over two lines, with the page number and the time it was made at each page's foot.
func bulletinPDF(c *BulletinContent, font []byte) ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+4)
	pdf.SetCreationDate(c.PublishedAt)
	pdf.SetModificationDate(c.PublishedAt)
	pdf.SetTitle(bulletinTitle(c), true)
	pdf.SetCreator("CityOps", true)
	pdf.AddUTF8FontFromBytes("cjk", "", font)
	if err := pdf.Error(); err != nil {
		return nil, err
	}
	generated := zh("evaluation.bulletin.generated") + " " + c.PublishedAt.In(clock.China).Format("2006-01-02 15:04")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfMargin - 2)
		pdf.SetFont("cjk", "", 8)
		pdf.CellFormat(pdfWidth/2, 5, bulletinTitle(c)+" · "+generated, "", 0, "L", false, 0, "")
		pdf.CellFormat(pdfWidth/2, 5, strconv.Itoa(pdf.PageNo()), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	pdf.SetFont("cjk", "", 18)
	pdf.CellFormat(pdfWidth, 10, bulletinTitle(c), "", 1, "C", false, 0, "")
	pdf.Ln(2)
	pdf.SetFont("cjk", "", 10)
	for _, h := range bulletinHeader(c) {
		pdf.CellFormat(30, pdfLine, h[0], "", 0, "L", false, 0, "")
		pdf.CellFormat(pdfWidth-30, pdfLine, h[1], "", 1, "L", false, 0, "")
	}
	for _, t := range bulletinTables(c) {
		pdfTable(pdf, t)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pdfTable sets t: its title, then its headings and rows in columns of equal width but for the
// name (wider) and the rank (narrower).
func pdfTable(pdf *fpdf.Fpdf, t docTable) {
	pdf.Ln(4)
	if _, y := pdf.GetXY(); y > 170 {
		pdf.AddPage()
	}
	pdf.SetFont("cjk", "", 13)
	pdf.CellFormat(pdfWidth, 8, t.Title, "", 1, "L", false, 0, "")
	if len(t.Rows) == 0 {
		pdf.SetFont("cjk", "", 10)
		pdf.CellFormat(pdfWidth, pdfLine, zh("evaluation.page.empty"), "", 1, "L", false, 0, "")
		return
	}
	widths := columnWidths(t)
	pdf.SetFont("cjk", "", 7.5)
	pdf.SetFillColor(235, 238, 242)
	// Headings: up to two lines each, in boxes of one height.
	x, y := pdf.GetXY()
	const headH = 9.0
	for i, h := range t.Head {
		pdf.Rect(x, y, widths[i], headH, "FD")
		lines := pdf.SplitText(h, widths[i]-1)
		if len(lines) > 2 {
			lines = lines[:2]
		}
		top := y + (headH-float64(len(lines))*3.6)/2
		for j, l := range lines {
			pdf.SetXY(x, top+float64(j)*3.6)
			pdf.CellFormat(widths[i], 3.6, l, "", 0, "C", false, 0, "")
		}
		x += widths[i]
	}
	pdf.SetXY(pdfMargin, y+headH)
	pdf.SetFont("cjk", "", 8.5)
	for _, r := range t.Rows {
		for i, v := range r {
			align := "R"
			if _, ok := v.(string); ok && i > 0 {
				align = "L"
			}
			pdf.CellFormat(widths[i], 5.5, fit(pdf, cellText(v), widths[i]-1.5), "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
}

// columnWidths: the first column (rank, or the name of a two-column list) narrow unless the
// table is a list, the name column 40 mm, the rest sharing what is left.
func columnWidths(t docTable) []float64 {
	n := len(t.Head)
	w := make([]float64, n)
	if n <= 2 {
		w[0], w[n-1] = 80, 30
		return w
	}
	ranking := t.Head[0] == zh("evaluation.page.rank")
	rest, from := pdfWidth, 0
	if ranking {
		w[0], w[1] = 10, 40
		rest, from = pdfWidth-50, 2
	}
	for i := from; i < n; i++ {
		w[i] = rest / float64(n-from)
	}
	return w
}

// fit cuts s to the width w, ending it with "…" when cut.
func fit(pdf *fpdf.Fpdf, s string, w float64) string {
	if pdf.GetStringWidth(s) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && pdf.GetStringWidth(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
