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
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/uptrace/bun"
)

// ExportManifest describes an export archive; it is the archive's manifest.json.
type ExportManifest struct {
	Format     string        `json:"format"`
	Tenant     *Tenant       `json:"tenant"`
	ExportedAt time.Time     `json:"exported_at"`
	Tables     []ExportTable `json:"tables"`
	// Files are the files kept outside the database (case photos), each in the archive at Path.
	Files []ExportFile `json:"files"`
}

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

// ExportTable is one table of an export: <name>.json (an array of objects) and <name>.csv.
type ExportTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    int      `json:"rows"`
}

// ExportAudited is Export for someone who takes the archive away (the API's and the operator
// console's downloads): once the archive is written, it is audited as tenant.export.
// Offboarding exports through Export and audits its own steps.
func (s *Store) ExportAudited(ctx context.Context, t *Tenant, w io.Writer) error {
	if err := s.Export(ctx, t, w); err != nil {
		return err
	}
	return s.AuditNow(ctx, "tenant.export", &t.ID, t.Slug, nil)
}

// Export writes the tenant's whole data set to w as a zip archive in open formats: every table as
// JSON and as CSV (UTF-8, header row), the files of every ExportFiles source (case photos, stored
// as they are), plus manifest.json. It reads in one read-only transaction, so the tables are a
// consistent snapshot and the files are those the tables name. Suspended tenants can be exported.
func (s *Store) Export(ctx context.Context, t *Tenant, w io.Writer) error {
	zw := zip.NewWriter(w)
	man := ExportManifest{Format: "cityops-export/1", Tenant: t, ExportedAt: s.now()}
	err := s.tenantTx(ctx, t, Read, func(ctx context.Context, db bun.IDB) error {
		tables, err := s.tenantTables(ctx, db)
		if err != nil {
			return err
		}
		for _, name := range tables {
			et, err := exportTable(ctx, db, zw, name)
			if err != nil {
				return fmt.Errorf("export %s: %w", name, err)
			}
			man.Tables = append(man.Tables, et)
		}
		man.Files = []ExportFile{}
		seen := map[string]bool{}
		for _, src := range s.exportFiles {
			err := src.Files(ctx, t, db, func(f ExportFile, r io.Reader) error {
				p := path.Clean(f.Path)
				if p != f.Path || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || p == ".." || seen[p] ||
					!strings.Contains(p, "/") || p == "manifest.json" {
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
		return err
	}
	f, err := zw.Create("manifest.json")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(man); err != nil {
		return err
	}
	return zw.Close()
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

func exportTable(ctx context.Context, db bun.IDB, zw *zip.Writer, name string) (ExportTable, error) {
	et := ExportTable{Name: name}
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+dbx.QuoteIdent(name))
	if err != nil {
		return et, err
	}
	defer rows.Close()
	if et.Columns, err = rows.Columns(); err != nil {
		return et, err
	}
	jf, err := zw.Create(name + ".json")
	if err != nil {
		return et, err
	}
	io.WriteString(jf, "[")
	err = scanRows(rows, len(et.Columns), func(vals []any) error {
		obj := make(map[string]any, len(vals))
		for i, v := range vals {
			obj[et.Columns[i]], _ = exportValue(v)
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		if et.Rows > 0 {
			io.WriteString(jf, ",")
		}
		io.WriteString(jf, "\n")
		jf.Write(b)
		et.Rows++
		return nil
	})
	if err != nil {
		return et, err
	}
	io.WriteString(jf, "\n]\n")

	// The CSV is a second pass in the same snapshot, so neither copy is held in memory.
	rows2, err := db.QueryContext(ctx, "SELECT * FROM "+dbx.QuoteIdent(name))
	if err != nil {
		return et, err
	}
	defer rows2.Close()
	cf, err := zw.Create(name + ".csv")
	if err != nil {
		return et, err
	}
	cw := csv.NewWriter(cf)
	cw.Write(et.Columns)
	rec := make([]string, len(et.Columns))
	err = scanRows(rows2, len(et.Columns), func(vals []any) error {
		for i, v := range vals {
			_, rec[i] = exportValue(v)
		}
		return cw.Write(rec)
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	return et, err
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
