package app

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/blob/blobtest"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
)

// TestObjectStorageAcrossReplicas: two replicas on one PostgreSQL database and one bucket of a
// real S3 server (versitygw). A photo uploaded through one is served by the other; a member of
// another tenant cannot read it (404); an oversize or non-image upload is a 4xx that stores
// nothing; the storage sample counts the tenant's prefix in the bucket; offboarding a tenant
// removes its objects and only its, and its archive, stored in the bucket, downloads from the
// other replica through a presigned URL that expires.
func TestObjectStorageAcrossReplicas(t *testing.T) {
	srv := blobtest.MustStart(t)
	bucket := srv.MustBucket(t)
	bucket.PresignTTL = 2 * time.Second
	f1 := newCaseFixtureConfig(t, "postgres", Options{}, func(c *Config) { c.Blob = bucket })
	ctx := context.Background()
	if f1.app.blobs.Kind() != blob.BackendS3 {
		t.Fatalf("replica 1 stores objects in %s", f1.app.blobs.Kind())
	}
	// Replica 2: the same database, bucket and keys (as Vault would give every replica), a data
	// directory of its own.
	cfg2 := f1.app.cfg
	cfg2.DataDir = t.TempDir()
	a2, err := New(ctx, cfg2, Options{Logger: slog.New(slog.DiscardHandler), Passwords: tenants.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a2.Close() })
	f2 := &caseFixture{fixture: &fixture{app: a2, tokens: f1.tokens, ids: f1.ids}, dept: f1.dept}
	ta, tb := mustTenant(t, f1.fixture, "chuxiong"), mustTenant(t, f1.fixture, "wuding")

	// Uploaded through replica 1, served by replica 2.
	c := f1.report(t, "acceptorA", reportA)
	pid := f1.photo(t, "acceptorA", c.ID)
	photoURL := casesA + "/" + c.ID + "/photos/" + pid
	res := f2.mustDo(t, "adminA", "GET", photoURL, "", 200)
	if res.body != pngBytes || res.header.Get("Content-Type") != "image/png" {
		t.Fatalf("photo from replica 2: %q %s", res.body, res.header.Get("Content-Type"))
	}
	if res := f2.mustDo(t, "", "GET", "/readyz", "", 200); !strings.Contains(res.body, `"objects":"s3: available"`) {
		t.Fatalf("readyz: %s", res.body)
	}
	if _, err := os.Stat(filepath.Join(f1.app.cfg.DataDir, "blobs", "tenants")); !os.IsNotExist(err) {
		t.Fatalf("replica 1 kept the photo on its disk: %v", err)
	}

	// Another tenant's member, and another tenant's path, get 404 from either replica.
	for _, f := range []*caseFixture{f1, f2} {
		f.mustDo(t, "adminB", "GET", photoURL, "", 404)
		f.mustDo(t, "adminB", "GET", "/api/v1/t/wuding/cases/"+c.ID+"/photos/"+pid, "", 404)
	}

	// Refused uploads are 4xx and store nothing.
	before, err := a2.blobs.List(ctx, blob.TenantPrefix(ta.ID))
	if err != nil || len(before) != 1 {
		t.Fatalf("A's objects: %v %v", before, err)
	}
	a2.cases.SetMaxPhoto(64)
	big := pngBytes + strings.Repeat("x", 100)
	if res := f2.upload(t, "acceptorA", casesA+"/"+c.ID+"/photos", "image/png", big); res.status != 413 {
		t.Fatalf("oversize photo: %d %s", res.status, res.body)
	}
	if res := f2.upload(t, "acceptorA", casesA+"/"+c.ID+"/photos", "image/png", "<svg onload=alert(1)>"); res.status != 415 {
		t.Fatalf("not an image: %d %s", res.status, res.body)
	}
	if after, _ := a2.blobs.List(ctx, blob.TenantPrefix(ta.ID)); len(after) != 1 {
		t.Fatalf("refused uploads stored %v", after)
	}
	a2.cases.SetMaxPhoto(cases.DefaultMaxPhoto)

	// The storage sample counts the prefix in the bucket, on either replica.
	for _, a := range []*App{f1.app, a2} {
		if n, err := a.tenantObjectBytes(ctx, ta); err != nil || n != int64(len(pngBytes)) {
			t.Fatalf("A's object bytes: %d %v, want %d", n, err, len(pngBytes))
		}
	}

	// B has a photo too; offboarding B (through replica 1) removes B's objects, not A's.
	inspB, _ := mustAccount(t, f1.app.store, "inspectorb@test.cn", "", tb, tenants.Inspector)
	f1.tokens["inspectorB"] = inspB
	res = f1.mustDo(t, "inspectorB", "POST", "/api/v1/t/wuding/cases", `{"kind":"component","class_code":"0101","lon":102.4,"lat":25.5}`, 201)
	var cb caseView
	json.Unmarshal([]byte(res.body), &cb)
	if res := f2.upload(t, "inspectorB", "/api/v1/t/wuding/cases/"+cb.ID+"/photos", "image/png", pngBytes+"-B"); res.status != 201 {
		t.Fatalf("B's photo: %d %s", res.status, res.body)
	}
	if got, _ := a2.blobs.List(ctx, blob.TenantPrefix(tb.ID)); len(got) != 1 {
		t.Fatalf("B's objects: %v", got)
	}
	res = f1.mustDo(t, "operator", "POST", "/api/v1/tenants/wuding/offboard", `{"confirm":"wuding"}`, 200)
	var off struct {
		Export    string
		ExportURL string `json:"export_url"`
	}
	json.Unmarshal([]byte(res.body), &off)
	if got, _ := a2.blobs.List(ctx, blob.TenantPrefix(tb.ID)); len(got) != 0 {
		t.Fatalf("B's objects after offboarding: %v", got)
	}
	if got, _ := a2.blobs.List(ctx, blob.TenantPrefix(ta.ID)); len(got) != 1 {
		t.Fatalf("A's objects after B's offboarding: %v", got)
	}
	if !strings.HasPrefix(off.Export, tenants.ArchivePrefix(tb.ID)) || off.ExportURL == "" {
		t.Fatalf("offboarding answered %s", res.body)
	}

	// The archive downloads from replica 2: for operator admins only, audited, by a presigned
	// URL that expires.
	f2.mustDo(t, "adminB", "GET", off.ExportURL, "", 403)
	f2.mustDo(t, "support", "GET", off.ExportURL, "", 403)
	f2.mustDo(t, "operator", "GET", "/api/v1/offboarding-archives/"+tb.ID.String()+"/nope.zip", "", 404)
	f2.mustDo(t, "operator", "GET", "/api/v1/offboarding-archives/"+ta.ID.String()+"/"+filepath.Base(off.Export), "", 404)
	f2.mustDo(t, "operator", "GET", "/api/v1/offboarding-archives/not-a-uuid/x.zip", "", 404)
	res = f2.mustDo(t, "operator", "GET", off.ExportURL, "", 302)
	loc := res.header.Get("Location")
	if !strings.HasPrefix(loc, srv.Endpoint+"/") || !strings.Contains(loc, "X-Amz-Expires=2") {
		t.Fatalf("redirect to %q", loc)
	}
	got := mustGet(t, loc, 200)
	zr, err := zip.NewReader(bytes.NewReader([]byte(got)), int64(len(got)))
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	if all := strings.Join(names, " "); !strings.Contains(all, "manifest.json") || !strings.Contains(all, "case_photos/") {
		t.Fatalf("archive holds %s", all)
	}
	if es, err := a2.store.FindAudit(ctx, tenants.AuditFilter{TenantID: &tb.ID, Action: "tenant.offboard.archive_download"}); err != nil || len(es) != 1 {
		t.Fatalf("download audit: %+v %v", es, err)
	}
	time.Sleep(3 * time.Second)
	mustGet(t, loc, 403)
}

// TestOffboardingArchiveLocal: on the local store the archive streams through the app.
func TestOffboardingArchiveLocal(t *testing.T) {
	f := newFixture(t, "sqlite")
	tn := mustTenant(t, f, "wuding")
	res, err := f.do(t, "operator", "POST", "/api/v1/tenants/wuding/offboard", `{"confirm":"wuding"}`)
	if err != nil || res.status != 200 {
		t.Fatalf("offboard: %v %+v", err, res)
	}
	var off struct {
		Export    string
		ExportURL string `json:"export_url"`
	}
	json.Unmarshal([]byte(res.body), &off)
	if _, err := os.Stat(filepath.Join(f.app.cfg.DataDir, "blobs", filepath.FromSlash(off.Export))); err != nil || !strings.HasPrefix(off.Export, tenants.ArchivePrefix(tn.ID)) {
		t.Fatalf("archive %q: %v", off.Export, err)
	}
	if res, _ := f.do(t, "", "GET", "/readyz", ""); res.status != 200 || !strings.Contains(res.body, `"objects":"local: available"`) {
		t.Fatalf("readyz: %+v", res)
	}
	head := httptest.NewRequest("HEAD", off.ExportURL, nil)
	head.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
	if res, err := f.send(t, head); err != nil || res.status != 200 {
		t.Fatalf("HEAD: %v %+v", err, res)
	}
	if es, _ := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &tn.ID, Action: "tenant.offboard.archive_download"}); len(es) != 0 {
		t.Fatalf("a HEAD was audited as a download: %+v", es)
	}
	req := httptest.NewRequest("GET", off.ExportURL, nil)
	req.Header.Set("Authorization", "Bearer "+f.tokens["operator"])
	res, err = f.send(t, req)
	if err != nil || res.status != 200 || !strings.HasPrefix(res.body, "PK") || !strings.Contains(res.header.Get("Content-Disposition"), "wuding-") {
		t.Fatalf("download: %v %d %s", err, res.status, res.header)
	}
	if es, _ := f.app.store.FindAudit(context.Background(), tenants.AuditFilter{TenantID: &tn.ID, Action: "tenant.offboard.archive_download"}); len(es) != 1 {
		t.Fatalf("download audit: %+v", es)
	}
}

// TestLegacyPhotosMove: photos an earlier version kept in <data>/photos/<tenant>/ move into the
// local object store at start.
func TestLegacyPhotosMove(t *testing.T) {
	data := t.TempDir()
	id := "0b9f6a52-4d0e-4d5e-9a43-1f2f9e4c7a10"
	old := filepath.Join(data, "photos", id, "ab")
	if err := os.MkdirAll(old, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(old, "ab12"), []byte("photo"), 0o640); err != nil {
		t.Fatal(err)
	}
	cfg := Config{DataDir: data, Addr: "127.0.0.1:0", LogFormat: "json", LogLevel: "error", MigrateWorkers: 1, BodyLimit: 1 << 20}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st, err := openBlobs(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := st.Open(context.Background(), "tenants/"+id+"/photos/ab/ab12")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, _ := io.ReadAll(r); string(b) != "photo" {
		t.Fatalf("moved photo: %q", b)
	}
	if _, err := os.Stat(filepath.Join(data, "photos")); !os.IsNotExist(err) {
		t.Fatalf("old folder left: %v", err)
	}
}

// TestBlobConfig: the object storage variables are checked at start, every problem at once.
func TestBlobConfig(t *testing.T) {
	env := map[string]string{"CITYOPS_BLOB": "s3", "CITYOPS_S3_ENDPOINT": "minio:9000", "CITYOPS_S3_BUCKET": "A_B", "CITYOPS_S3_PRESIGN_TTL": "2h"}
	_, err := LoadConfigFrom(env)
	for _, want := range []string{"CITYOPS_S3_ENDPOINT", "CITYOPS_S3_BUCKET", "CITYOPS_S3_ACCESS_KEY", "CITYOPS_S3_PRESIGN_TTL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
	if _, err := LoadConfigFrom(map[string]string{"CITYOPS_BLOB": "ftp"}); err == nil || !strings.Contains(err.Error(), "CITYOPS_BLOB") {
		t.Errorf("CITYOPS_BLOB=ftp: %v", err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ak"), []byte("AKID\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "sk"), []byte("very-secret\n"), 0o600)
	cfg, err := LoadConfigFrom(map[string]string{"CITYOPS_BLOB": "s3", "CITYOPS_S3_ENDPOINT": "https://s3.internal:9000", "CITYOPS_S3_BUCKET": "cityops-prod",
		"CITYOPS_S3_ACCESS_KEY_FILE": filepath.Join(dir, "ak"), "CITYOPS_S3_SECRET_KEY_FILE": filepath.Join(dir, "sk")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Blob.S3AccessKey != "AKID" || cfg.Blob.S3SecretKey != "very-secret" || !cfg.Blob.S3PathStyle || cfg.Blob.PresignTTL != 90*time.Second || cfg.Blob.S3Region != "us-east-1" {
		t.Fatalf("config: %+v", cfg.Blob)
	}
	if r := cfg.Redacted(); r.Blob.S3SecretKey != "[redacted]" || r.Blob.S3AccessKey != "[redacted]" {
		t.Fatalf("redacted: %+v", r.Blob)
	}
	if cfg, err := LoadConfigFrom(map[string]string{}); err != nil || cfg.Blob.Backend != blob.BackendLocal || cfg.Blob.Dir != filepath.Join("data", "blobs") {
		t.Fatalf("default: %+v %v", cfg.Blob, err)
	}
}

func mustGet(t *testing.T, u string, want int) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d\n%s", u, res.StatusCode, want, b)
	}
	return string(b)
}

// TestDeployedReplicaObjectStorage: the environment deploy/terraform renders for a replica with
// object_storage set loads, reads the S3 key from its files and reaches the bucket.
func TestDeployedReplicaObjectStorage(t *testing.T) {
	srv := blobtest.MustStart(t)
	bucket := srv.MustBucket(t)
	etc := t.TempDir()
	for name, v := range map[string]string{"s3-access-key": srv.Access + "\n", "s3-secret-key": srv.Secret + "\n"} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	envFile := renderTemplate(t, "cityops.env.tftpl", map[string]string{
		"addr": "127.0.0.1:0", "base_url": "https://cityops.example.gov.cn", "database_url": "postgres://cityops@db.internal:6432/cityops_drill",
		"role_prefix": "cityops_drill", "db_max_conns": "20", "trusted_proxies": "10.0.0.2", "vault_address": "https://vault.internal:8200",
		"token_file": filepath.Join(etc, "vault-token"), "transit_mount": "transit", "kv_mount": "secret",
		"blob": "s3", "s3_endpoint": srv.Endpoint, "s3_bucket": bucket.S3Bucket, "s3_region": bucket.S3Region, "s3_path_style": "true",
		"s3_access_key_file": filepath.Join(etc, "s3-access-key"), "s3_secret_key_file": filepath.Join(etc, "s3-secret-key"),
		"clusters_file": "", "cluster_capacity": "main=0",
	})
	cfg, err := LoadConfigFrom(parseEnvFile(t, envFile, t.TempDir()))
	if err != nil {
		t.Fatalf("the rendered environment does not load: %v", err)
	}
	if cfg.Blob.Backend != blob.BackendS3 || cfg.Blob.S3SecretKey != srv.Secret || cfg.Blob.PresignTTL != 90*time.Second {
		t.Fatalf("object storage from the rendered environment: %+v", cfg.Blob)
	}
	st, err := blob.Open(context.Background(), cfg.Blob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), "tenants/x/probe", strings.NewReader("ok"), 2, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}
