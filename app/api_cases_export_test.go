package app

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/tenants"
)

// TestCaseExportCarriesPhotos: a tenant's export has its case photos as files with their
// metadata in the manifest; another tenant's export has none of them; a photo whose file was
// lost is listed as missing instead of failing the export.
func TestCaseExportCarriesPhotos(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newCaseFixture(t, dialect)
			c := f.report(t, "acceptorA", reportA)
			photo := f.photo(t, "acceptorA", c.ID)
			export := func(who, slug string) (map[string][]byte, tenants.ExportManifest) {
				t.Helper()
				res := f.mustDo(t, who, "GET", "/api/v1/t/"+slug+"/export", "", 200)
				zr, err := zip.NewReader(bytes.NewReader([]byte(res.body)), int64(len(res.body)))
				if err != nil {
					t.Fatal(err)
				}
				files := map[string][]byte{}
				for _, zf := range zr.File {
					rc, _ := zf.Open()
					files[zf.Name], _ = io.ReadAll(rc)
					rc.Close()
				}
				var man tenants.ExportManifest
				if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
					t.Fatal(err)
				}
				return files, man
			}
			files, man := export("adminA", "chuxiong")
			name := "case_photos/" + c.Number + "/" + photo + ".png"
			if string(files[name]) != pngBytes {
				t.Fatalf("%s in the export: %q", name, files[name])
			}
			if len(man.Files) != 1 || man.Files[0].Path != name || man.Files[0].Size != int64(len(pngBytes)) ||
				man.Files[0].Meta["case_id"] != c.ID || man.Files[0].Meta["photo_id"] != photo || man.Files[0].MediaType != "image/png" {
				t.Fatalf("manifest files: %+v", man.Files)
			}
			if _, man := export("adminB", "wuding"); len(man.Files) != 0 {
				t.Fatalf("B's export has files: %+v", man.Files)
			}
			// The file is lost from the object store: the export still works and says so.
			ta := mustTenant(t, f.fixture, "chuxiong")
			sum := man.Files[0].SHA256
			if err := f.app.blobs.Delete(context.Background(), blob.TenantPrefix(ta.ID)+"photos/"+sum[:2]+"/"+sum); err != nil {
				t.Fatal(err)
			}
			files, man = export("adminA", "chuxiong")
			if _, ok := files[name]; ok || len(man.Files) != 1 || !man.Files[0].Missing {
				t.Fatalf("after losing the file: %+v", man.Files)
			}
		})
	}
}
