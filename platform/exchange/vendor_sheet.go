package exchange

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/xuri/excelize/v2"
)

// maxSheetHistory bounds the rows of a history sheet. They are held in memory while the first
// sheet is read (a record's rows may be anywhere on their sheet): only the columns the mapping
// names, as one slice of strings a row, indexed by the record id, and each record's rows are let
// go as soon as the record is read. Memory is therefore about the text of those columns — at
// most this many rows; a larger export is split, or exported as CSV (one row per history row,
// read in constant memory).
const maxSheetHistory = 1_000_000

// sheetRecords reads an XLSX file whose records are on the first sheet, one row each, and whose
// history rows are on another sheet (the mapping's history.sheet), joined by the record id.
type sheetRecords struct {
	read   func() ([]string, error) // the first sheet's rows
	header map[string]int
	cols   []string // the case columns the mapping names
	idCol  string
	n      int // rows read on both sheets, the headers included
	// firstRow is the number of the first sheet's row read last.
	firstRow int
	seen     map[string]int

	first, sheet string   // the first sheet's name and the history sheet's
	hcols        []string // the history sheet's columns the mapping names, in the order of a row's values
	hidCol       string   // the history sheet's record id column
	index        map[string][]sheetRow
	noID         []int // rows of the history sheet that name no record
}

// sheetRow is a row of the history sheet: its number and its values of hcols.
type sheetRow struct {
	row    int
	values []string
}

// orphanRow is a history row no record took: a problem of the file.
type orphanRow struct {
	sheet, column, id string
	row               int
	first             string // the sheet of the records
}

// historySheet finds the sheet named by want (a name, else a position from 1) among sheets.
func historySheet(sheets []string, want string) (string, error) {
	name := ""
	if slices.Contains(sheets, want) {
		name = want
	} else if i, err := strconv.Atoi(want); err == nil && i >= 1 && i <= len(sheets) {
		name = sheets[i-1]
	}
	switch {
	case name == "":
		return "", errs.Field("history.sheet", msgVendorNoSheet, textutil.Truncate(want, 31), strings.Join(sheets, ", "))
	case name == sheets[0]:
		return "", errs.Field("history.sheet", msgVendorSheetFirst, name)
	}
	return name, nil
}

func newSheetRecords(r io.Reader, m *Mapping) (*sheetRecords, io.Closer, error) {
	x, err := excelize.OpenReader(r)
	if err != nil {
		return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
	}
	sheets := x.GetSheetList()
	if len(sheets) == 0 {
		x.Close()
		return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
	}
	s := &sheetRecords{idCol: m.Fields[FieldRecordID], seen: map[string]int{}, first: sheets[0], index: map[string][]sheetRow{}}
	if s.sheet, err = historySheet(sheets, m.History.Sheet); err != nil {
		x.Close()
		return nil, nil, err
	}
	if err := s.loadHistory(x, m); err != nil {
		x.Close()
		return nil, nil, err
	}
	rows, err := x.Rows(s.first)
	if err != nil {
		x.Close()
		return nil, nil, errs.E(errs.Invalid, msgVendorXLSX)
	}
	s.read = sheetReader(rows)
	for _, c := range m.Fields {
		s.cols = append(s.cols, c)
	}
	h, n, missing, err := readHeader(s.read, s.cols)
	s.n, s.firstRow = s.n+n, n
	switch {
	case err == nil && h == nil:
		err = errs.E(errs.Invalid, msgVendorSheetNoHeader, s.first)
	case err == nil && len(missing) > 0:
		err = errs.E(errs.Invalid, msgVendorSheetColumns, s.first, strings.Join(missing, ", "))
	}
	if err != nil {
		closers{rows, x}.Close()
		return nil, nil, err
	}
	s.header = h
	return s, closers{rows, x}, nil
}

// sheetReader reads a sheet's rows; io.EOF after the last.
func sheetReader(rows *excelize.Rows) func() ([]string, error) {
	return func() ([]string, error) {
		if !rows.Next() {
			if err := rows.Error(); err != nil {
				return nil, errs.E(errs.Invalid, msgVendorXLSX)
			}
			return nil, io.EOF
		}
		return rows.Columns()
	}
}

// readHeader reads rows up to the first that is not blank, the header, and returns it as column →
// position (the first of a repeated name), the rows read and the columns of cols it lacks; with no
// header (every row blank), a nil header.
func readHeader(read func() ([]string, error), cols []string) (map[string]int, int, []string, error) {
	n := 0
	var h []string
	for {
		row, err := read()
		if err == io.EOF {
			return nil, n, nil, nil
		}
		if err != nil {
			return nil, n, nil, err
		}
		n++
		if !blankRow(row) {
			h = row
			break
		}
	}
	header := map[string]int{}
	for i, c := range h {
		c = strings.TrimSpace(strings.TrimPrefix(c, "\uFEFF"))
		if _, dup := header[c]; !dup {
			header[c] = i
		}
	}
	var missing []string
	for _, c := range cols {
		if _, ok := header[c]; !ok && !contains(missing, c) {
			missing = append(missing, c)
		}
	}
	return header, n, missing, nil
}

// loadHistory reads the history sheet into the index.
func (s *sheetRecords) loadHistory(x *excelize.File, m *Mapping) error {
	s.hidCol = m.History.RecordID
	if s.hidCol == "" {
		s.hidCol = s.idCol
	}
	s.hcols = []string{s.hidCol}
	for _, c := range m.History.Fields {
		if !slices.Contains(s.hcols, c) {
			s.hcols = append(s.hcols, c)
		}
	}
	rows, err := x.Rows(s.sheet)
	if err != nil {
		return errs.E(errs.Invalid, msgVendorXLSX)
	}
	defer rows.Close()
	read := sheetReader(rows)
	header, n, missing, err := readHeader(read, s.hcols)
	s.n += n
	switch {
	case err != nil:
		return err
	case header == nil:
		return errs.E(errs.Invalid, msgVendorSheetNoHeader, s.sheet)
	case len(missing) > 0:
		return errs.E(errs.Invalid, msgVendorSheetColumns, s.sheet, strings.Join(missing, ", "))
	}
	row := n // the row's number on its sheet
	count := 0
	for {
		cells, err := read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.n++
		row++
		if blankRow(cells) {
			continue
		}
		if count++; count > maxSheetHistory {
			return errs.E(errs.TooLarge, msgVendorSheetTooLarge, s.sheet, maxSheetHistory)
		}
		vals := make([]string, len(s.hcols))
		for i, c := range s.hcols {
			if j := header[c]; j < len(cells) {
				vals[i] = strings.TrimSpace(cells[j])
			}
		}
		if vals[0] == "" {
			s.noID = append(s.noID, row)
			continue
		}
		s.index[vals[0]] = append(s.index[vals[0]], sheetRow{row: row, values: vals})
	}
}

func (s *sheetRecords) rows() int { return s.n }

// next reads the next record of the first sheet and takes its history rows from the index.
func (s *sheetRecords) next() (*vendorRecord, error) {
	var cells []string
	for {
		var err error
		if cells, err = s.read(); err != nil {
			return nil, err
		}
		s.n++
		s.firstRow++
		if !blankRow(cells) {
			break
		}
	}
	rec := &vendorRecord{row: s.firstRow, values: make(map[string]string, len(s.cols))}
	for _, c := range s.cols {
		if i := s.header[c]; i < len(cells) {
			rec.values[c] = strings.TrimSpace(cells[i])
		} else {
			rec.values[c] = ""
		}
	}
	id := rec.values[s.idCol]
	if first, ok := s.seen[id]; ok && id != "" {
		rec.again = first
		return rec, nil
	}
	if id != "" {
		s.seen[id] = rec.row
	}
	for _, hr := range s.index[id] {
		v := make(map[string]string, len(s.hcols))
		for i, c := range s.hcols {
			v[c] = hr.values[i]
		}
		rec.history = append(rec.history, vendorRow{row: hr.row, sheet: s.sheet, values: v})
	}
	delete(s.index, id) // the record's rows are let go
	return rec, nil
}

// leftovers are the history rows no record took, in the sheet's order (after the last record).
func (s *sheetRecords) leftovers() []orphanRow {
	var out []orphanRow
	for id, hrs := range s.index {
		for _, hr := range hrs {
			out = append(out, orphanRow{sheet: s.sheet, column: s.hidCol, id: id, row: hr.row, first: s.first})
		}
	}
	for _, r := range s.noID {
		out = append(out, orphanRow{sheet: s.sheet, column: s.hidCol, row: r, first: s.first})
	}
	slices.SortFunc(out, func(a, b orphanRow) int { return a.row - b.row })
	return out
}

// xlsxWriter writes XLSX in the shape the mapping reads: with history.sheet, the records on the
// first sheet and their history rows on the history sheet (sheetXLSXWriter), else one row per
// history row on one sheet.
type xlsxWriter struct {
	w io.Writer
	vendorWriter
}

func newXLSXWriterFor(w io.Writer) vendorWriter { return &xlsxWriter{w: w} }

func (x *xlsxWriter) header(m *Mapping, caseCols, histCols []string) error {
	if m.History.Sheet != "" {
		x.vendorWriter = &sheetXLSXWriter{w: x.w}
	} else {
		x.vendorWriter = newXLSXWriter(x.w)
	}
	return x.vendorWriter.header(m, caseCols, histCols)
}

func (x *xlsxWriter) close() error {
	if x.vendorWriter == nil {
		return nil
	}
	return x.vendorWriter.close()
}

// sheetXLSXWriter writes the records on the first sheet, one row each, and their history rows on
// the mapping's history sheet, each naming its record in the history sheet's record id column.
type sheetXLSXWriter struct {
	w                  io.Writer
	f                  *excelize.File
	cases, hist        *excelize.StreamWriter
	caseRow, histRow   int
	caseCols, histCols []string
}

func (s *sheetXLSXWriter) header(m *Mapping, caseCols, histCols []string) error {
	s.f, s.caseCols, s.histCols = excelize.NewFile(), caseCols, histCols
	first := s.f.GetSheetName(0)
	name := m.History.Sheet
	if n, err := strconv.Atoi(name); err == nil {
		// By position: the sheets before it are there, empty.
		for i := 2; i < n; i++ {
			if _, err := s.f.NewSheet("Sheet" + strconv.Itoa(i)); err != nil {
				return err
			}
		}
		name = "Sheet" + strconv.Itoa(n)
	}
	if _, err := s.f.NewSheet(name); err != nil {
		return err
	}
	var err error
	if s.cases, err = s.f.NewStreamWriter(first); err != nil {
		return err
	}
	if s.hist, err = s.f.NewStreamWriter(name); err != nil {
		return err
	}
	var cells []string
	for _, f := range caseCols {
		cells = append(cells, m.Fields[f])
	}
	if err := s.row(s.cases, &s.caseRow, cells); err != nil {
		return err
	}
	id := m.History.RecordID
	if id == "" {
		id = m.Fields[FieldRecordID]
	}
	cells = []string{id}
	for _, f := range histCols {
		cells = append(cells, m.History.Fields[f])
	}
	return s.row(s.hist, &s.histRow, cells)
}

func (s *sheetXLSXWriter) row(sw *excelize.StreamWriter, n *int, cells []string) error {
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = excelize.Cell{Value: c} // text, never a formula or a number
	}
	*n++
	cell, _ := excelize.CoordinatesToCellName(1, *n)
	return sw.SetRow(cell, vals)
}

func (s *sheetXLSXWriter) record(ec exportCase) error {
	cells := make([]string, 0, len(s.caseCols))
	for _, f := range s.caseCols {
		cells = append(cells, ec.values[f])
	}
	if err := s.row(s.cases, &s.caseRow, cells); err != nil {
		return err
	}
	for _, h := range ec.history {
		cells := []string{ec.values[FieldRecordID]}
		for _, f := range s.histCols {
			cells = append(cells, h[f])
		}
		if err := s.row(s.hist, &s.histRow, cells); err != nil {
			return err
		}
	}
	return nil
}

func (s *sheetXLSXWriter) close() error {
	if err := s.cases.Flush(); err != nil {
		return err
	}
	if err := s.hist.Flush(); err != nil {
		return err
	}
	if _, err := s.f.WriteTo(s.w); err != nil {
		return err
	}
	return s.f.Close()
}
