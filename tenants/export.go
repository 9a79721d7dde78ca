package tenants

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/uptrace/bun"
)

// ExportFormat names the archive layout in the manifest. Version 2 added the byte order mark of
// the CSV files, the workbooks and the personal-data fields.
const ExportFormat = "cityops-export/2"

// PersonalData says how an export writes citizens' personal data (the columns an ExportSealed
// source names).
type PersonalData string

// How an export writes personal data.
const (
	// PersonalDataEncrypted writes the columns as stored: ciphertext under the tenant's key,
	// unreadable by anyone once offboarding destroyed the key. It is the default.
	PersonalDataEncrypted PersonalData = "encrypted"
	// PersonalDataClear decrypts them into plain columns. It needs a reason, a tenant admin or an
	// operator_admin (or the command line on the server), and is audited as
	// AuditExportPersonalData.
	PersonalDataClear PersonalData = "clear"
)

// Check refuses anything but PersonalDataClear and PersonalDataEncrypted, naming the field
// personal_data (a request must say which; ExportOptions' zero value means encrypted).
func (p PersonalData) Check() error {
	if p != PersonalDataClear && p != PersonalDataEncrypted {
		return errs.Field("personal_data", msgPersonalDataClearOrEncrypted)
	}
	return nil
}

// ExportOptions say what an export holds and how it is made.
type ExportOptions struct {
	// PersonalData is PersonalDataEncrypted (also the zero value) or PersonalDataClear.
	PersonalData PersonalData
	// Reason is why the archive is taken: required (at most MaxReason characters) for personal
	// data in clear, optional otherwise. It is audited and written into the manifest.
	Reason string
	// TempDir is where the workbooks of large tables spill while they are written (they hold
	// what the archive holds, personal data too); empty is the system's temporary directory.
	TempDir string

	// sheetRows bounds the data rows of one worksheet (tests; zero is Excel's limit).
	sheetRows int
}

// ExportManifest describes an export archive; it is the archive's manifest.json.
type ExportManifest struct {
	Format     string    `json:"format"`
	Tenant     *Tenant   `json:"tenant"`
	ExportedAt time.Time `json:"exported_at"`
	// PersonalData says whether the citizens' personal data in the archive is ciphertext
	// (encrypted) or in clear (clear: the archive must be protected like the data itself).
	PersonalData PersonalData `json:"personal_data"`
	// Reason is why the archive was taken, and ExportedBy who took it (set when audited).
	Reason     string `json:"reason,omitempty"`
	ExportedBy string `json:"exported_by,omitempty"`
	// Notice says what the archive holds and how to treat it, by language (zh-CN, en); README.txt
	// says the same for whoever opens the archive by hand.
	Notice map[string]string `json:"notice"`
	// CSV says how the CSV files are written.
	CSV    ExportCSV     `json:"csv"`
	Tables []ExportTable `json:"tables"`
	// Files are the files kept outside the database (case photos), each in the archive at Path.
	Files []ExportFile `json:"files"`
}

// ExportCSV describes the CSV files of an archive: UTF-8 starting with a byte order mark (so that
// Excel reads the Chinese), a header row, and every text cell that Excel would take for a formula
// (one starting with = + - @, a tab or a carriage return that is not a plain number) preceded by
// FormulaEscape, so that a citizen's text never runs as a formula on a clerk's computer. The
// JSON files hold every value exactly.
type ExportCSV struct {
	Encoding      string `json:"encoding"`
	BOM           bool   `json:"bom"`
	FormulaEscape string `json:"formula_escape"`
}

var exportCSV = ExportCSV{Encoding: "UTF-8", BOM: true, FormulaEscape: "'"}

// ExportFile is one file of an export, with what the archive's reader needs to check and place
// it. Size and SHA256 are of the bytes written to the archive; Meta is the source's own (for a
// photo: its id, case, uploader, time). A file the source lists but cannot read is Missing and
// not in the archive, so that one lost file does not block an export or an offboarding.
type ExportFile struct {
	Path      string         `json:"path"`
	MediaType string         `json:"media_type"`
	Size      int64          `json:"size"`
	SHA256    string         `json:"sha256"`
	Missing   bool           `json:"missing,omitempty"`
	Meta      map[string]any `json:"meta,omitempty"`
}

// ExportFiles is a source of files kept outside the database that belong in a tenant's export
// (the case module's photos). Files runs inside the export's read-only transaction of tenant t
// and hands each file to add with its reader; a nil reader marks the file missing.
type ExportFiles interface {
	Files(ctx context.Context, t *Tenant, db bun.IDB, add func(f ExportFile, r io.Reader) error) error
}

// AddExportFiles adds a source of files to every export (and so to offboarding). Call it while
// the application is being built, before serving.
func (s *Store) AddExportFiles(src ExportFiles) { s.exportFiles = append(s.exportFiles, src) }

// SealedColumn is a column of a tenant table that holds personal data encrypted with the
// tenant's key: a ciphertext string, empty or NULL.
type SealedColumn struct {
	Table  string
	Column string
	// Clear names the column in an export with personal data in clear, where it holds the
	// plaintext in the ciphertext column's place.
	Clear string
}

// ExportSealed is a module's personal data as an export sees it: the columns that hold
// ciphertext under the tenant's key, and how to decrypt them (the case loop's reporter names
// and phones). An export with personal data in clear decrypts through it; offboarding asks it
// whether the tenant holds any personal data that destroying the key would lose.
type ExportSealed interface {
	SealedColumns() []SealedColumn
	// Open decrypts ciphertexts of tenant t, in order, all or nothing.
	Open(ctx context.Context, t *Tenant, ciphertexts []string) ([]string, error)
}

// AddExportSealed adds a source of encrypted personal data to every export and to offboarding's
// check. Call it while the application is being built, before serving. A column that is not a
// plain identifier is refused when an export runs.
func (s *Store) AddExportSealed(src ExportSealed) { s.exportSealed = append(s.exportSealed, src) }

// sealedColumn is a SealedColumn with its source.
type sealedColumn struct {
	SealedColumn
	src ExportSealed
}

// sealedByTable returns the sealed columns of every source by table.
func (s *Store) sealedByTable() (map[string][]sealedColumn, error) {
	out := map[string][]sealedColumn{}
	for _, src := range s.exportSealed {
		for _, c := range src.SealedColumns() {
			if !dbx.ValidIdent(c.Table) || !dbx.ValidIdent(c.Column) || !dbx.ValidIdent(c.Clear) {
				return nil, fmt.Errorf("sealed column %s.%s (clear %s) is not an identifier", c.Table, c.Column, c.Clear)
			}
			out[c.Table] = append(out[c.Table], sealedColumn{c, src})
		}
	}
	return out, nil
}

// ExportTable is one table of an export: <name>.json (an array of objects), <name>.csv and the
// workbook xlsx/<name>.xlsx.
type ExportTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    int      `json:"rows"`
	// EncryptedColumns hold personal data as ciphertext under the tenant's key; ClearColumns
	// hold it decrypted, in their place (an export with personal data in clear).
	EncryptedColumns []string `json:"encrypted_columns,omitempty"`
	ClearColumns     []string `json:"clear_columns,omitempty"`
	// Workbook is the table's XLSX file and Sheets its worksheets: more than one when the table
	// has more rows than a worksheet holds (1,048,575 below the header row).
	Workbook string   `json:"workbook"`
	Sheets   []string `json:"sheets"`
	// TruncatedCells counts the workbook's cells cut to Excel's 32,767 characters; the JSON and
	// CSV files hold those values whole.
	TruncatedCells int `json:"truncated_cells,omitempty"`
}

// MaxReason bounds the reason given for an export or a waiver, in characters.
const MaxReason = 500

// AuditExportPersonalData is the audit action of an export with personal data in clear, and
// AuditExportWaived that of a waiver of it: offboarding looks for either (FindHandover).
const (
	AuditExportPersonalData = "tenant.export.personal_data"
	AuditExportWaived       = "tenant.export.waived"
)

// ExportAudited is the export for someone who takes the archive away (the API's and the
// consoles' downloads, the command line). With personal data in clear it first checks that the
// caller may have it (a tenant admin of t, an operator_admin, or no principal: the command line
// on the server) and the reason. Once the archive is written to w, and before the caller hands
// it on, it is audited: as tenant.export, or as AuditExportPersonalData with the reason, the
// archive's size and its SHA-256. If that entry cannot be written the error says so and the
// archive must not be handed out. Offboarding exports through Export and audits its own steps.
func (s *Store) ExportAudited(ctx context.Context, t *Tenant, w io.Writer, opts ExportOptions) error {
	reason, err := CheckReason(opts.Reason, opts.PersonalData == PersonalDataClear)
	if err != nil {
		return err
	}
	opts.Reason = reason
	if opts.PersonalData == "" {
		opts.PersonalData = PersonalDataEncrypted
	}
	if err := opts.PersonalData.Check(); err != nil {
		return err
	}
	if t.Status != StatusActive && t.Status != StatusSuspended {
		return errs.E(errs.Conflict, msgExportOnlyLiveTenant, t.NameZH, t.Status)
	}
	action := "tenant.export"
	if opts.PersonalData == PersonalDataClear {
		if err := mayHandOver(ctx, t); err != nil {
			return err
		}
		action = AuditExportPersonalData
	}
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	records, err := s.export(ctx, t, cw, opts)
	if err != nil {
		return err
	}
	detail := map[string]any{"personal_data": opts.PersonalData, "bytes": cw.n, "sha256": hex.EncodeToString(h.Sum(nil))}
	if opts.Reason != "" {
		detail["reason"] = opts.Reason
	}
	if opts.PersonalData == PersonalDataClear {
		// How many records the archive holds personal data of: offboarding wants a handover of
		// at least as many as the tenant holds then.
		detail["records"] = records
	}
	return s.AuditNow(ctx, action, &t.ID, t.Slug, detail)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Export writes the tenant's whole data set to w as a zip archive in open formats, with citizens'
// personal data as ciphertext: every table as JSON, as CSV (UTF-8 with a byte order mark, header
// row) and as an XLSX workbook, the files of every ExportFiles source (case photos, stored as
// they are), plus manifest.json and README.txt. It reads in one read-only transaction, so the
// tables are a consistent snapshot and the files are those the tables name; it streams, holding
// no table in memory. Suspended tenants can be exported. It is not audited: offboarding writes
// it; a download goes through ExportAudited.
func (s *Store) Export(ctx context.Context, t *Tenant, w io.Writer) error {
	_, err := s.export(ctx, t, w, ExportOptions{PersonalData: PersonalDataEncrypted})
	return err
}

// export writes the archive; with personal data in clear it returns how many rows it decrypted
// personal data of.
func (s *Store) export(ctx context.Context, t *Tenant, w io.Writer, opts ExportOptions) (int64, error) {
	sealed, err := s.sealedByTable()
	if err != nil {
		return 0, err
	}
	var records int64
	zw := zip.NewWriter(w)
	man := ExportManifest{Format: ExportFormat, Tenant: t, ExportedAt: s.now(), PersonalData: opts.PersonalData, Reason: opts.Reason, CSV: exportCSV}
	if man.PersonalData == "" {
		man.PersonalData = PersonalDataEncrypted
	}
	if opts.PersonalData == PersonalDataClear {
		man.ExportedBy = actorEmail(ctx)
	}
	// The archive's own names, which no file of a source may take.
	seen := map[string]bool{"manifest.json": true, "README.txt": true}
	err = s.tenantTx(ctx, t, Read, func(ctx context.Context, db bun.IDB) error {
		tables, err := s.tenantTables(ctx, db)
		if err != nil {
			return err
		}
		for _, name := range tables {
			x := &tableExport{name: name, tenant: t, sealed: sealed[name], opts: opts, at: man.ExportedAt}
			et, err := x.write(ctx, db, zw)
			if err != nil {
				return fmt.Errorf("export %s: %w", name, err)
			}
			records += x.records
			seen[et.Workbook] = true
			man.Tables = append(man.Tables, et)
		}
		man.Files = []ExportFile{}
		for _, src := range s.exportFiles {
			err := src.Files(ctx, t, db, func(f ExportFile, r io.Reader) error {
				p := path.Clean(f.Path)
				if p != f.Path || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." || seen[p] ||
					!strings.Contains(p, "/") {
					return fmt.Errorf("export file path %q is not a fresh relative path in a directory", f.Path)
				}
				seen[p] = true
				if r == nil {
					f.Missing, f.Size, f.SHA256 = true, 0, ""
					man.Files = append(man.Files, f)
					return nil
				}
				w, err := zw.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Store, Modified: man.ExportedAt})
				if err != nil {
					return err
				}
				h := sha256.New()
				n, err := io.Copy(io.MultiWriter(w, h), r)
				if err != nil {
					return fmt.Errorf("export file %s: %w", p, err)
				}
				f.Size, f.SHA256 = n, hex.EncodeToString(h.Sum(nil))
				man.Files = append(man.Files, f)
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	man.Notice = map[string]string{msg.ZH: exportNotice(msg.ZH, &man), msg.EN: exportNotice(msg.EN, &man)}
	if err := writeReadme(zw, &man); err != nil {
		return 0, err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "manifest.json", Method: zip.Deflate, Modified: man.ExportedAt})
	if err != nil {
		return 0, err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(man); err != nil {
		return 0, err
	}
	return records, zw.Close()
}

// exportNotice says in lang what the archive holds and how to treat it.
func exportNotice(lang string, man *ExportManifest) string {
	if man.PersonalData == PersonalDataClear {
		return msgExportNoticeClear.In(lang, man.ExportedBy, man.ExportedAt.Format(time.RFC3339), man.Reason)
	}
	return msgExportNoticeEncrypted.In(lang)
}

// writeReadme writes README.txt: the notice and the archive's layout, in Chinese and English,
// as UTF-8 with a byte order mark and CRLF line ends, so that Notepad shows it right.
func writeReadme(zw *zip.Writer, man *ExportManifest) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "README.txt", Method: zip.Deflate, Modified: man.ExportedAt})
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\uFEFF")
	for _, lang := range []string{msg.ZH, msg.EN} {
		b.WriteString(msgExportReadmeTitle.In(lang, man.Tenant.NameZH, man.Tenant.AdminCode, man.ExportedAt.Format(time.RFC3339)))
		b.WriteString("\n\n")
		b.WriteString(man.Notice[lang])
		b.WriteString("\n\n")
		b.WriteString(msgExportReadmeLayout.In(lang))
		b.WriteString("\n\n")
	}
	_, err = io.WriteString(f, strings.ReplaceAll(b.String(), "\n", "\r\n"))
	return err
}

// actorEmail is who ctx acts for, as the audit log names them.
func actorEmail(ctx context.Context) string {
	if p := PrincipalFrom(ctx); p != nil && p.Identity != nil {
		return p.Identity.Email
	}
	return "system"
}

func (s *Store) tenantTables(ctx context.Context, db bun.IDB) ([]string, error) {
	var names []string
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if s.dialect == dbx.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
	}
	if err := db.NewRaw(q).Scan(ctx, &names); err != nil {
		return nil, err
	}
	return names, nil
}

// tableExport writes one table into an archive.
type tableExport struct {
	name   string
	tenant *Tenant
	sealed []sealedColumn
	opts   ExportOptions
	at     time.Time
	// records counts the rows whose personal data was decrypted.
	records int64
}

// write writes the table as JSON and, in the same pass, into its workbook; then the workbook;
// then the CSV in a second pass over the same snapshot, so that no copy is held in memory.
func (x *tableExport) write(ctx context.Context, db bun.IDB, zw *zip.Writer) (ExportTable, error) {
	et := ExportTable{Name: x.name, Workbook: "xlsx/" + x.name + ".xlsx"}
	rows, err := x.open(ctx, db)
	if err != nil {
		return et, err
	}
	defer rows.Close()
	et.Columns, et.EncryptedColumns, et.ClearColumns = rows.cols, rows.encrypted, rows.clear
	wb, err := newWorkbook(x.name, rows.cols, x.opts)
	if err != nil {
		return et, err
	}
	defer wb.close()
	jf, err := zw.CreateHeader(&zip.FileHeader{Name: x.name + ".json", Method: zip.Deflate, Modified: x.at})
	if err != nil {
		return et, err
	}
	if _, err := io.WriteString(jf, "["); err != nil {
		return et, err
	}
	obj := make(map[string]any, len(rows.cols))
	err = rows.each(ctx, func(vals []any) error {
		for i, v := range vals {
			obj[rows.cols[i]], _ = exportValue(v)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		sep := ",\n"
		if et.Rows == 0 {
			sep = "\n"
		}
		if _, err := io.WriteString(jf, sep); err != nil {
			return err
		}
		if _, err := jf.Write(b); err != nil {
			return err
		}
		et.Rows++
		for _, oc := range rows.open {
			if v, _ := vals[oc.idx].(string); v != "" {
				x.records++
				break
			}
		}
		return wb.add(vals)
	})
	if err != nil {
		return et, err
	}
	rows.Close()
	if _, err := io.WriteString(jf, "\n]\n"); err != nil {
		return et, err
	}
	// The workbook is a zip of its own, already compressed: stored as it is.
	xf, err := zw.CreateHeader(&zip.FileHeader{Name: et.Workbook, Method: zip.Store, Modified: x.at})
	if err != nil {
		return et, err
	}
	if err := wb.writeTo(xf); err != nil {
		return et, fmt.Errorf("workbook: %w", err)
	}
	et.Sheets, et.TruncatedCells = wb.sheets, wb.truncated

	rows2, err := x.open(ctx, db)
	if err != nil {
		return et, err
	}
	defer rows2.Close()
	cf, err := zw.CreateHeader(&zip.FileHeader{Name: x.name + ".csv", Method: zip.Deflate, Modified: x.at})
	if err != nil {
		return et, err
	}
	if _, err := io.WriteString(cf, "\uFEFF"); err != nil {
		return et, err
	}
	cw := csv.NewWriter(cf)
	if err := cw.Write(rows2.cols); err != nil {
		return et, err
	}
	rec := make([]string, len(rows2.cols))
	err = rows2.each(ctx, func(vals []any) error {
		for i, v := range vals {
			_, rec[i] = exportValue(v)
			if isText(v) {
				rec[i] = csvText(rec[i])
			}
		}
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return et, err
}

// exportBatch is how many rows are decrypted together (one call to the key service per source).
const exportBatch = 500

// tableRows are a table's rows as an export writes them.
type tableRows struct {
	x    *tableExport
	rows *sql.Rows
	// cols are the exported column names: clear names in place of sealed ones when decrypting.
	cols             []string
	encrypted, clear []string
	// open are the sealed columns to decrypt, by position.
	open []openColumn
}

type openColumn struct {
	idx int
	src ExportSealed
}

func (x *tableExport) open(ctx context.Context, db bun.IDB) (*tableRows, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+dbx.QuoteIdent(x.name))
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, err
	}
	r := &tableRows{x: x, rows: rows, cols: slices.Clone(cols)}
	for _, sc := range x.sealed {
		i := slices.Index(cols, sc.Column)
		if i < 0 {
			continue
		}
		if x.opts.PersonalData != PersonalDataClear {
			r.encrypted = append(r.encrypted, sc.Column)
			continue
		}
		if slices.Contains(cols, sc.Clear) {
			rows.Close()
			return nil, fmt.Errorf("sealed column %s: the clear name %s is a column already", sc.Column, sc.Clear)
		}
		r.cols[i] = sc.Clear
		r.clear = append(r.clear, sc.Clear)
		r.open = append(r.open, openColumn{i, sc.src})
	}
	return r, nil
}

func (r *tableRows) Close() { r.rows.Close() }

// each feeds every row to fn, its sealed columns decrypted in batches when asked to. fn must not
// keep vals.
func (r *tableRows) each(ctx context.Context, fn func(vals []any) error) error {
	n := len(r.cols)
	if len(r.open) == 0 {
		return scanRows(r.rows, n, fn)
	}
	batch := make([][]any, 0, exportBatch)
	flush := func() error {
		if err := r.decrypt(ctx, batch); err != nil {
			return err
		}
		for _, vals := range batch {
			if err := fn(vals); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	err := scanRows(r.rows, n, func(vals []any) error {
		batch = append(batch, slices.Clone(vals))
		if len(batch) == exportBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// decrypt replaces the ciphertexts of the batch's sealed columns by their plaintext, one Open
// per source. NULL and empty values stay as they are.
func (r *tableRows) decrypt(ctx context.Context, batch [][]any) error {
	type ref struct{ row, idx int }
	var srcs []ExportSealed
	cts := map[ExportSealed][]string{}
	refs := map[ExportSealed][]ref{}
	for i, vals := range batch {
		for _, oc := range r.open {
			var ct string
			switch v := vals[oc.idx].(type) {
			case nil:
				continue
			case string:
				ct = v
			case []byte:
				ct = string(v)
			default:
				return fmt.Errorf("sealed column %s holds %T, not ciphertext", r.cols[oc.idx], v)
			}
			if ct == "" {
				vals[oc.idx] = ""
				continue
			}
			if _, ok := cts[oc.src]; !ok {
				srcs = append(srcs, oc.src)
			}
			cts[oc.src] = append(cts[oc.src], ct)
			refs[oc.src] = append(refs[oc.src], ref{i, oc.idx})
		}
	}
	for _, src := range srcs {
		plain, err := src.Open(ctx, r.x.tenant, cts[src])
		if err != nil {
			return err
		}
		if len(plain) != len(cts[src]) {
			return fmt.Errorf("decrypted %d values of %d", len(plain), len(cts[src]))
		}
		for k, rf := range refs[src] {
			batch[rf.row][rf.idx] = plain[k]
		}
	}
	return nil
}

func scanRows(rows *sql.Rows, n int, fn func([]any) error) error {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exportValue turns a scanned value into its JSON value and its CSV text.
func exportValue(v any) (any, string) {
	switch x := v.(type) {
	case nil:
		return nil, ""
	case []byte:
		return string(x), string(x)
	case string:
		return x, x
	case time.Time:
		s := x.UTC().Format(time.RFC3339Nano)
		return s, s
	case int64:
		return x, strconv.FormatInt(x, 10)
	case float64:
		return x, strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return x, strconv.FormatBool(x)
	default:
		return fmt.Sprint(x), fmt.Sprint(x)
	}
}

// isText reports whether a scanned value is text (which a CSV cell may need to escape).
func isText(v any) bool {
	switch v.(type) {
	case string, []byte:
		return true
	}
	return false
}

// csvText escapes text that Excel would read as a formula (OWASP's CSV injection): it starts
// with = + - @, a tab or a carriage return and is not a plain number.
func csvText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if _, err := strconv.ParseFloat(s, 64); err == nil && s[0] != '\t' && s[0] != '\r' {
			return s
		}
		return exportCSV.FormulaEscape + s
	}
	return s
}
