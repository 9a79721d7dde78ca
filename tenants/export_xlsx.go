package tenants

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"
)

// A table's workbook (xlsx/<table>.xlsx): one workbook per table, because that is what a clerk
// opens — the table they need, at once, rather than one workbook of every table that Excel must
// load whole — and because it keeps the export's memory to one table's buffer. Its rows go to
// worksheets named after the table, each with the header row (bold, frozen); a table longer than
// a worksheet continues on "<table> (2)" and so on. Text is written as text, never as a formula
// or a number (a phone or a division code keeps its digits), numbers beyond Excel's 15 digits as
// text, times as the same RFC 3339 text as the CSV; a text longer than a cell holds is cut, and
// counted in the manifest.

// Excel's limits.
const (
	// xlsxSheetRows is how many data rows fit in a worksheet below its header row.
	xlsxSheetRows = excelize.TotalRows - 1
	// xlsxCellChars is the most characters (UTF-16 code units) a cell holds.
	xlsxCellChars = excelize.TotalCellChars
	// xlsxSheetName is the longest worksheet name.
	xlsxSheetName = excelize.MaxSheetNameLength
	// xlsxExactInt is the largest integer Excel keeps exactly (15 significant digits).
	xlsxExactInt = 999_999_999_999_999
)

// workbook is a table's workbook being written. Its worksheets stream through excelize, which
// keeps a worksheet's first 16 MiB in memory and the rest in a file in TempDir.
type workbook struct {
	f         *excelize.File
	table     string
	header    []any
	style     int
	maxRows   int
	sw        *excelize.StreamWriter
	row       int // data rows written to the current worksheet
	sheets    []string
	truncated int
}

func newWorkbook(table string, cols []string, opts ExportOptions) (*workbook, error) {
	f := excelize.NewFile(excelize.Options{TmpDir: opts.TempDir})
	b := &workbook{f: f, table: table, maxRows: opts.sheetRows}
	if b.maxRows <= 0 || b.maxRows > xlsxSheetRows {
		b.maxRows = xlsxSheetRows
	}
	for _, c := range cols {
		b.header = append(b.header, c)
	}
	var err error
	if b.style, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}}); err != nil {
		f.Close()
		return nil, err
	}
	if err := b.nextSheet(); err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// sheetName is the name of the table's n-th worksheet (from 1): the table's name, cut to fit,
// then " (n)". Excel reserves "History".
func sheetName(table string, n int) string {
	suffix := ""
	if n > 1 {
		suffix = " (" + strconv.Itoa(n) + ")"
	}
	name := table
	if strings.EqualFold(name, "history") {
		name += "_"
	}
	if len(name)+len(suffix) > xlsxSheetName { // table names are ASCII identifiers
		name = name[:xlsxSheetName-len(suffix)]
	}
	return name + suffix
}

// nextSheet ends the current worksheet, if any, and starts the next one with the header row.
func (b *workbook) nextSheet() error {
	if b.sw != nil {
		if err := b.sw.Flush(); err != nil {
			return err
		}
	}
	name := sheetName(b.table, len(b.sheets)+1)
	if len(b.sheets) == 0 {
		if err := b.f.SetSheetName("Sheet1", name); err != nil {
			return err
		}
	} else if _, err := b.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := b.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", b.header, excelize.RowOpts{StyleID: b.style}); err != nil {
		return err
	}
	b.sw, b.row = sw, 0
	b.sheets = append(b.sheets, name)
	return nil
}

// add writes one row of scanned values.
func (b *workbook) add(vals []any) error {
	if b.row == b.maxRows {
		if err := b.nextSheet(); err != nil {
			return err
		}
	}
	cells := make([]any, len(vals))
	for i, v := range vals {
		var cut bool
		cells[i], cut = xlsxValue(v)
		if cut {
			b.truncated++
		}
	}
	b.row++
	cell, err := excelize.CoordinatesToCellName(1, b.row+1)
	if err != nil {
		return err
	}
	return b.sw.SetRow(cell, cells)
}

// writeTo ends the last worksheet and writes the workbook to w, streaming (excelize would build
// it in memory first).
func (b *workbook) writeTo(w io.Writer) error {
	if err := b.sw.Flush(); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	b.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	// excelize writes every part to zw and closes it; the buffer it hands on stays empty.
	return b.f.Write(io.Discard)
}

// close removes the workbook's temporary files.
func (b *workbook) close() { b.f.Close() }

// xlsxValue is a scanned value as a cell, and whether it was cut to fit.
func xlsxValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case []byte:
		return xlsxText(string(x))
	case string:
		return xlsxText(x)
	case int64:
		if x > xlsxExactInt || x < -xlsxExactInt {
			return strconv.FormatInt(x, 10), false
		}
		return x, false
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64), false
		}
		return x, false
	case bool:
		return x, false
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), false
	default:
		return fmt.Sprint(x), false
	}
}

// xlsxText is s cut to what a cell holds (counted in UTF-16 code units, as Excel counts, never
// splitting a character).
func xlsxText(s string) (string, bool) {
	if len(s) <= xlsxCellChars { // at most as many code units as bytes
		return s, false
	}
	n := 0
	for i, r := range s {
		n += utf16.RuneLen(r)
		if n > xlsxCellChars {
			return s[:i], true
		}
	}
	return s, false
}
