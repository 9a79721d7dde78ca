// Package tabular reads the spreadsheets that city offices publish — CSV in UTF-8 (with or
// without a byte-order mark) or GBK/GB18030, and XLSX — into rows of text addressed by column
// name, and holds the row-by-row report of an import.
package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Format is a file format of a table.
type Format string

// The formats Read understands.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
)

// MaxRows bounds the rows of one import.
const MaxRows = 50000

// Table is a sheet: a header and the data rows under it. Row numbers count as a person sees
// them in a spreadsheet program: the header is row 1.
type Table struct {
	Header []string
	Rows   [][]string
}

// FormatOf chooses the format from a media type or a file name, and from the content: an XLSX
// file is a zip and starts with "PK".
func FormatOf(mediaType, filename string, data []byte) (Format, error) {
	mt := strings.ToLower(mediaType)
	fn := strings.ToLower(filename)
	switch {
	case strings.Contains(mt, "spreadsheetml") || strings.HasSuffix(fn, ".xlsx"):
		return XLSX, nil
	case strings.HasPrefix(mt, "text/csv") || strings.HasPrefix(mt, "text/plain") || strings.HasSuffix(fn, ".csv"):
		return CSV, nil
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return XLSX, nil
	}
	return "", errs.E(errs.Unsupported, msgSendTableCsvTextCsv)
}

// Read parses data as a table of the given format.
func Read(data []byte, f Format) (*Table, error) {
	var rows [][]string
	var err error
	switch f {
	case XLSX:
		rows, err = readXLSX(data)
	default:
		rows, err = readCSV(data)
	}
	if err != nil {
		return nil, err
	}
	for len(rows) > 0 && blank(rows[0]) {
		rows = rows[1:]
	}
	if len(rows) == 0 {
		return nil, errs.E(errs.Invalid, msgFileHasNoHeaderRow)
	}
	if len(rows)-1 > MaxRows {
		return nil, errs.E(errs.TooLarge, msgFileHasRowsOneImport, len(rows)-1, MaxRows)
	}
	t := &Table{Header: rows[0]}
	for i := range t.Header {
		t.Header[i] = strings.TrimSpace(t.Header[i])
	}
	t.Rows = rows[1:]
	return t, nil
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// DecodeText turns the bytes of a text file into UTF-8: UTF-8 (a byte-order mark is dropped) is
// taken as is, anything else is read as GB18030 (a superset of GBK and GB2312) if it decodes
// cleanly, and refused otherwise.
func DecodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return "", errs.E(errs.Invalid, msgFileUtfSaveUtfGbk)
	case bytes.IndexByte(data, 0) >= 0:
		return "", errs.E(errs.Invalid, msgFileNotTextContainsNul)
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF})
	if utf8.Valid(data) {
		return string(data), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", errs.E(errs.Invalid, msgFileNeitherUtfNorGbk)
	}
	return string(out), nil
}

func readCSV(data []byte) ([][]string, error) {
	text, err := DecodeText(data)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errs.E(errs.Invalid, msgCsvFileCannotReadLine, pe.Line, pe.Err)
			}
			return nil, errs.E(errs.Invalid, msgCsvFileCannotRead)
		}
		rows = append(rows, rec)
		if len(rows) > MaxRows+1 {
			break
		}
	}
	return rows, nil
}

func readXLSX(data []byte) ([][]string, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, errs.E(errs.Invalid, msgFileNotReadableXlsxWorkbook)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errs.E(errs.Invalid, msgWorkbookHasNoSheet)
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, errs.E(errs.Invalid, msgFirstSheetWorkbookCannotRead)
	}
	return rows, nil
}

// Column names a column and the header texts it goes by (Chinese and English).
type Column struct {
	Name     string
	Aliases  []string
	Required bool
}

// Index maps each column to its position in the header, or -1 when the file lacks it. A missing
// required column is an error naming every one missing.
func (t *Table) Index(cols []Column) (map[string]int, error) {
	idx := map[string]int{}
	var missing []string
	for _, c := range cols {
		idx[c.Name] = -1
		for i, h := range t.Header {
			h = strings.ToLower(strings.TrimSpace(h))
			if h == c.Name || containsFold(c.Aliases, h) {
				idx[c.Name] = i
				break
			}
		}
		if idx[c.Name] < 0 && c.Required {
			label := c.Name
			if len(c.Aliases) > 0 {
				label += " (" + c.Aliases[0] + ")"
			}
			missing = append(missing, label)
		}
	}
	if len(missing) > 0 {
		return nil, errs.E(errs.Invalid, msgHeaderLacksColumn, strings.Join(missing, ", "))
	}
	return idx, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Cell returns the trimmed cell of row in column col, "" when absent.
func Cell(row []string, idx map[string]int, col string) string {
	i, ok := idx[col]
	if !ok || i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// Blank reports whether a data row is empty (such rows are skipped, not rejected).
func Blank(row []string) bool { return blank(row) }

// Problem is one thing wrong with one row (or feature) of an import. Row is the spreadsheet row
// number (the header is row 1) or the feature's position counted from 1.
type Problem struct {
	// Sheet is the worksheet the row is on, when a file's rows are on more than one (an XLSX
	// file with the history on a sheet of its own); empty for the first.
	Sheet   string `json:"sheet,omitempty"`
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
	// MessageZH is the message in Chinese, for the console's report.
	MessageZH string `json:"message_zh,omitempty"`
}

// Report is the outcome of an import: how many rows were read and accepted, what was rejected
// and why, and whether anything was written. Nothing is written unless every row is accepted.
type Report struct {
	Rows     int       `json:"rows"`
	Accepted int       `json:"accepted"`
	Problems []Problem `json:"problems"`
	DryRun   bool      `json:"dry_run"`
	Applied  bool      `json:"applied"`
}

// Add records a problem saying m with args, in English and in Chinese.
func (r *Report) Add(row int, column, key string, m *msg.Message, args ...any) {
	r.Problems = append(r.Problems, Problem{Row: row, Column: column, Key: key,
		Message: m.In(msg.EN, args...), MessageZH: m.In(msg.ZH, args...)})
}

// AddErr records a problem saying err's message (see errs.MessageIn) in English and in Chinese;
// an error that is not a coded one says the generic internal message, never its own text.
func (r *Report) AddErr(row int, column, key string, err error) {
	r.Problems = append(r.Problems, Problem{Row: row, Column: column, Key: key,
		Message: errs.MessageIn(err, msg.EN), MessageZH: errs.MessageIn(err, msg.ZH)})
}

// AuditDetail is what an applied import records in the audit log: the rows read and accepted.
func (r *Report) AuditDetail() map[string]any {
	return map[string]any{"rows": r.Rows, "accepted": r.Accepted}
}

// OK reports whether no row was rejected.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Rejected is the error returned with a report whose rows were rejected: nothing was written.
type Rejected struct{ Report *Report }

func (e *Rejected) Error() string {
	return fmt.Sprintf("import rejected: %d problem(s) in %d row(s); nothing was written", len(e.Report.Problems), e.Report.Rows)
}

// Reject returns r as an error if any row was rejected, else nil.
func (r *Report) Reject() error {
	if r.OK() {
		return nil
	}
	return &Rejected{Report: r}
}
