package tenants

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/uptrace/bun"
)

// fileSource is an ExportFiles with fixed files; a nil body is a file that cannot be read.
type fileSource struct {
	files  []ExportFile
	bodies []*string
	tenant *Tenant // the tenant it was asked for
}

func (f *fileSource) Files(_ context.Context, t *Tenant, _ bun.IDB, add func(ExportFile, io.Reader) error) error {
	f.tenant = t
	for i, ef := range f.files {
		var r io.Reader
		if f.bodies[i] != nil {
			r = strings.NewReader(*f.bodies[i])
		}
		if err := add(ef, r); err != nil {
			return err
		}
	}
	return nil
}

// TestExportFiles: the files of an export source are in the archive at their path, stored as
// given, and listed in the manifest with size, SHA-256 and metadata; an unreadable one is listed
// as missing; a path that could escape the archive or clash fails the export.
func TestExportFiles(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		a := mustProvision(t, p, countyA)
		body := "\x89PNG photo bytes"
		src := &fileSource{
			files: []ExportFile{
				{Path: "case_photos/532301-2026-000001/p1.png", MediaType: "image/png", Meta: map[string]any{"case_id": "c1"}},
				{Path: "case_photos/532301-2026-000001/p2.jpg", MediaType: "image/jpeg"},
			},
			bodies: []*string{&body, nil},
		}
		s.AddExportFiles(src)
		var buf bytes.Buffer
		if err := s.Export(ctx, a, &buf); err != nil {
			t.Fatal(err)
		}
		if src.tenant == nil || src.tenant.ID != a.ID {
			t.Fatalf("source asked for tenant %v, want %s", src.tenant, a.Slug)
		}
		files := unzip(t, buf.Bytes())
		if files["case_photos/532301-2026-000001/p1.png"] != body {
			t.Fatalf("photo in the archive: %q; files %v", files["case_photos/532301-2026-000001/p1.png"], keys(files))
		}
		if _, ok := files["case_photos/532301-2026-000001/p2.jpg"]; ok {
			t.Fatal("a missing file is in the archive")
		}
		var man ExportManifest
		if err := json.Unmarshal([]byte(files["manifest.json"]), &man); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		if len(man.Files) != 2 {
			t.Fatalf("manifest files: %+v", man.Files)
		}
		got, miss := man.Files[0], man.Files[1]
		if got.Size != int64(len(body)) || got.SHA256 != hex.EncodeToString(sum[:]) || got.MediaType != "image/png" || got.Meta["case_id"] != "c1" || got.Missing {
			t.Fatalf("manifest entry: %+v", got)
		}
		if !miss.Missing || miss.Size != 0 {
			t.Fatalf("missing entry: %+v", miss)
		}
		for _, bad := range []string{"../escape/x.png", "/abs/x.png", "case_photos/../../x.png", "flat.png", "case_photos/532301-2026-000001/p1.png"} {
			s.exportFiles = []ExportFiles{&fileSource{files: []ExportFile{{Path: "case_photos/532301-2026-000001/p1.png"}, {Path: bad}}, bodies: []*string{&body, &body}}}
			if err := s.Export(ctx, a, io.Discard); err == nil {
				t.Errorf("path %q: exported", bad)
			}
		}
	})
}
