package cases_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// TestRewrapAfterRotation rotates a tenant's key, re-wraps the stored reporter data, raises the
// minimum decryption version, and checks that every case still reads and nothing stale is left.
func TestRewrapAfterRotation(t *testing.T) {
	platformtest.EachDialect(t, func(t *testing.T, e *platformtest.Env) {
		ctx := context.Background()
		kr, err := secrets.OpenKeyring(ctx, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer kr.Close()
		tid := e.TenantA.ID
		if err := kr.EnsureTenantKey(ctx, tid); err != nil {
			t.Fatal(err)
		}
		s := cases.NewService(cases.Config{Gate: e.Store, Cipher: kr, Usage: &usage{}, PhotoDir: t.TempDir()})
		acc := as(e.TenantA, uuid.New(), tenants.Acceptor)
		var ids []string
		for i := 0; i < 3; i++ {
			c, err := s.Report(acc, cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25, ReporterName: "张三", ReporterPhone: "13900000000"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		info, err := kr.RotateTenantKey(ctx, tid)
		if err != nil || info.LatestVersion != 2 {
			t.Fatalf("rotate: %+v %v", info, err)
		}
		// One case reported after the rotation is already on the new version.
		if _, err := s.Report(acc, cases.ReportInput{Kind: "component", ClassCode: "0101", Lon: 101.5, Lat: 25, ReporterName: "李四"}); err != nil {
			t.Fatal(err)
		}
		admin := tenants.WithScope(ctx, tenants.SystemScope(e.TenantA))
		n, err := s.RewrapPersonalData(admin, kr, info.LatestVersion)
		if err != nil || n != 6 {
			t.Fatalf("re-wrapped %d values (%v), want 6 (name and phone of 3 cases)", n, err)
		}
		if n, err := s.RewrapPersonalData(admin, kr, info.LatestVersion); err != nil || n != 0 {
			t.Fatalf("second run re-wrapped %d (%v), want 0", n, err)
		}
		if err := kr.SetMinDecryptionVersion(ctx, tid, info.LatestVersion); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			c, err := s.FindCaseByID(acc, id)
			if err != nil || c.Reporter == nil || c.Reporter.Name != "张三" || c.Reporter.Phone != "13900000000" {
				t.Fatalf("case %s after re-wrap: %+v %v", id, c, err)
			}
		}
		var stored []string
		if err := e.Store.Tx(admin, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			return db.NewRaw("SELECT reporter_name_enc FROM cases").Scan(ctx, &stored)
		}); err != nil {
			t.Fatal(err)
		}
		for _, v := range stored {
			if !strings.HasPrefix(v, "kr:v2:") {
				t.Fatalf("stale or plain value left: %q", v)
			}
		}
		// Without a scope the job refuses to run.
		if _, err := s.RewrapPersonalData(ctx, kr, 2); !errs.Is(err, errs.Internal) {
			t.Fatalf("re-wrap without scope: %v", err)
		}
		// RotateTenantKey does the three steps in one go and audits them.
		r, err := s.RotateTenantKey(ctx, e.TenantA, kr)
		if err != nil || *r != (cases.KeyRotation{LatestVersion: 3, MinDecryptionVersion: 3, Rewrapped: 7}) {
			t.Fatalf("RotateTenantKey: %+v %v, want version 3 with 7 values re-wrapped", r, err)
		}
		if ki, _ := kr.TenantKey(ctx, tid); ki.MinDecryptionVersion != 3 {
			t.Fatalf("key after RotateTenantKey: %+v", ki)
		}
		if es := e.MustAudit(t, e.TenantA, "tenant.key.rotate"); len(es) != 1 || es[0].Target != "chuxiong" ||
			es[0].Detail != `{"latest_version":3,"min_decryption_version":3,"rewrapped":7}` {
			t.Fatalf("tenant.key.rotate audit: %+v", es)
		}
	})
}
