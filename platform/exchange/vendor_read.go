package exchange

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// VendorFormat is the format of a vendor's export file.
type VendorFormat string

// The formats a vendor's file may come in.
const (
	VendorCSV  VendorFormat = "csv"
	VendorXLSX VendorFormat = "xlsx"
	VendorJSON VendorFormat = "json"
)

// VendorFormatOf chooses the format from the file's name.
func VendorFormatOf(name string) (VendorFormat, error) {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".csv"):
		return VendorCSV, nil
	case strings.HasSuffix(n, ".xlsx"):
		return VendorXLSX, nil
	case strings.HasSuffix(n, ".json"):
		return VendorJSON, nil
	}
	return "", errs.E(errs.Unsupported, msgVendorFormat)
}

// vendorRecord is one record of a vendor's file: the case's values by column, and its history
// rows. row is where it starts (the spreadsheet's row number, the header being row 1; in JSON
// the record's position, from 1).
type vendorRecord struct {
	row     int
	values  map[string]string
	history []vendorRow
	// again is the row where a record of the same id was met before (0: the first).
	again int
}

type vendorRow struct {
	row    int
	sheet  string // the worksheet the row is on, when not the first (vendor_sheet.go)
	values map[string]string
}

// recordReader reads a file record by record, in bounded memory.
type recordReader interface {
	// next returns the next record, io.EOF after the last. An error with a code is about the
	// file (it cannot be read on); others are the reader's.
	next() (*vendorRecord, error)
	// rows is how many rows (or history entries) were read so far.
	rows() int
}

// maxCell bounds one value of a vendor's file.
const maxCell = 10_000

func newRecordReader(r io.Reader, f VendorFormat, m *Mapping) (recordReader, io.Closer, error) {
	if f == VendorJSON && m.History.Sheet == "" {
		return newJSONRecords(r, m), io.NopCloser(nil), nil
	}
	if m.History.Sheet != "" {
		if f != VendorXLSX {
			return nil, nil, errs.E(errs.Invalid, msgVendorSheetXLSX, m.History.Sheet, strings.ToUpper(string(f)))
		}
		return newSheetRecords(r, m)
	}
	read, closer, err := flatRows(r, f)
	if err != nil {
		return nil, nil, err
	}
	fr, err := newFlatRecords(read, m)
	if err != nil {
		closer.Close()
		return nil, nil, err
	}
	return fr, closer, nil
}

// flatRows reads a CSV or XLSX file (the first sheet) row by row: read returns io.EOF after the
// last row; closer releases the workbook.
func flatRows(r io.Reader, f VendorFormat) (read func() ([]string, error), closer io.Closer, err error) {
	if f == VendorXLSX {
		x, err := excelize.OpenReader(r)
		if err != nil {
			return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
		}
		sheets := x.GetSheetList()
		if len(sheets) == 0 {
			x.Close()
			return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
		}
		rows, err := x.Rows(sheets[0])
		if err != nil {
			x.Close()
			return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
		}
		return func() ([]string, error) {
			if !rows.Next() {
				if err := rows.Error(); err != nil {
					return nil, errs.E(errs.Invalid, msgVendorXLSX)
				}
				return nil, io.EOF
			}
			return rows.Columns()
		}, closers{rows, x}, nil
	}
	text, err := decodedText(r)
	if err != nil {
		return nil, nil, err
	}
	c := csv.NewReader(text)
	c.FieldsPerRecord, c.LazyQuotes, c.ReuseRecord = -1, true, false
	return func() ([]string, error) {
		rec, err := c.Read()
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, errs.E(errs.Invalid, msgVendorCSVLine, pe.Line, pe.Err.Error())
		}
		return rec, err
	}, io.NopCloser(nil), nil
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// decodedText reads UTF-8 (a byte-order mark is dropped) or, when the start of the file is not
// UTF-8, GB18030 (a superset of GBK and GB2312) — what spreadsheet programs in China save CSV as.
func decodedText(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	switch {
	case len(head) >= 2 && (head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF):
		return nil, errs.E(errs.Invalid, msgVendorUTF16)
	case strings.HasPrefix(string(head), "\xEF\xBB\xBF"):
		_, _ = br.Discard(3)
		return br, nil
	}
	// A rune cut at the end of the peeked bytes is not a sign of another encoding.
	for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	if utf8.Valid(head) {
		return br, nil
	}
	return simplifiedchinese.GB18030.NewDecoder().Reader(br), nil
}

// flatRecords reads CSV and XLSX: a header row, then one row per history row, the rows of a
// record next to each other (the same record id; the case's columns are read from its first).
type flatRecords struct {
	read    func() ([]string, error)
	header  map[string]int
	idCol   string
	cols    []string // every column the mapping names
	n       int      // rows read, the header included
	pending []string // the first row of the next record
	pendRow int
	seen    map[string]int // record ids met so far → their first row
}

func newFlatRecords(read func() ([]string, error), m *Mapping) (*flatRecords, error) {
	f := &flatRecords{read: read, header: map[string]int{}, idCol: m.Fields[FieldRecordID], seen: map[string]int{}}
	var h []string
	for {
		row, err := read()
		if errors.Is(err, io.EOF) {
			return nil, errs.E(errs.Invalid, msgVendorNoHeader)
		}
		if err != nil {
			return nil, err
		}
		f.n++
		if !blankRow(row) {
			h = row
			break
		}
	}
	for i, c := range h {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF"))
		if _, dup := f.header[c]; !dup {
			f.header[c] = i
		}
	}
	var missing []string
	for _, cols := range []map[string]string{m.Fields, m.History.Fields} {
		for _, c := range cols {
			if _, ok := f.header[c]; !ok && !contains(missing, c) {
				missing = append(missing, c)
			}
			f.cols = append(f.cols, c)
		}
	}
	if len(missing) > 0 {
		return nil, errs.E(errs.Invalid, msgVendorMissingColumns, strings.Join(missing, ", "))
	}
	return f, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func blankRow(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (f *flatRecords) rows() int { return f.n }

func (f *flatRecords) values(row []string) map[string]string {
	v := make(map[string]string, len(f.cols))
	for _, c := range f.cols {
		if i := f.header[c]; i < len(row) {
			v[c] = strings.TrimSpace(row[i])
		} else {
			v[c] = ""
		}
	}
	return v
}

func (f *flatRecords) nextRow() ([]string, int, error) {
	if f.pending != nil {
		r, n := f.pending, f.pendRow
		f.pending = nil
		return r, n, nil
	}
	for {
		row, err := f.read()
		if err != nil {
			return nil, 0, err
		}
		f.n++
		if !blankRow(row) {
			return row, f.n, nil
		}
	}
}

func (f *flatRecords) next() (*vendorRecord, error) {
	row, n, err := f.nextRow()
	if err != nil {
		return nil, err
	}
	rec := &vendorRecord{row: n, values: f.values(row)}
	id := rec.values[f.idCol]
	rec.history = append(rec.history, vendorRow{row: n, values: rec.values})
	for {
		row, n, err := f.nextRow()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		v := f.values(row)
		if v[f.idCol] != id || id == "" {
			f.pending, f.pendRow = row, n
			break
		}
		rec.history = append(rec.history, vendorRow{row: n, values: v})
	}
	if first, ok := f.seen[id]; ok && id != "" {
		rec.again = first
	} else if id != "" {
		f.seen[id] = rec.row
	}
	return rec, nil
}

// jsonRecords reads a JSON array of records; each holds its history rows in an array.
type jsonRecords struct {
	d       *json.Decoder
	m       *Mapping
	started bool
	n       int // records read
	h       int // history entries read
	seen    map[string]int
}

func newJSONRecords(r io.Reader, m *Mapping) *jsonRecords {
	d := json.NewDecoder(r)
	d.UseNumber()
	return &jsonRecords{d: d, m: m, seen: map[string]int{}}
}

func (j *jsonRecords) rows() int { return j.h }

func (j *jsonRecords) next() (*vendorRecord, error) {
	if !j.started {
		t, err := j.d.Token()
		if err != nil || t != json.Delim('[') {
			return nil, errs.E(errs.Invalid, msgVendorJSONArray)
		}
		j.started = true
	}
	if !j.d.More() {
		if _, err := j.d.Token(); err != nil {
			return nil, errs.E(errs.Invalid, msgVendorJSON, j.n+1)
		}
		return nil, io.EOF
	}
	var obj map[string]any
	if err := j.d.Decode(&obj); err != nil {
		return nil, errs.E(errs.Invalid, msgVendorJSON, j.n+1)
	}
	j.n++
	rec := &vendorRecord{row: j.n, values: map[string]string{}}
	for _, c := range j.m.Fields {
		rec.values[c] = jsonText(obj[c])
	}
	key := j.m.History.Key
	if key == "" {
		key = "history"
	}
	hist, _ := obj[key].([]any)
	for _, h := range hist {
		j.h++
		ho, _ := h.(map[string]any)
		v := map[string]string{}
		for _, c := range j.m.History.Fields {
			v[c] = jsonText(ho[c])
		}
		rec.history = append(rec.history, vendorRow{row: j.n, values: v})
	}
	id := rec.values[j.m.Fields[FieldRecordID]]
	if first, ok := j.seen[id]; ok && id != "" {
		rec.again = first
	} else if id != "" {
		j.seen[id] = rec.row
	}
	return rec, nil
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(x)
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
