package tenants

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
)

// FuzzTenantIdentifiers shows that no tenant identifier reaches SQL unvalidated: whatever the
// slug and admin code, provisioning either refuses them as invalid or derives schema and role
// names that are plain identifiers, and a lookup by any slug is a clean not-found.
func FuzzTenantIdentifiers(f *testing.F) {
	for _, seed := range [][2]string{
		{"chuxiong", "532301"}, {"a'; DROP SCHEMA control CASCADE;--", "532301"}, {"x", "53230'"},
		{"wuding", "532329\"; DROP ROLE x"}, {"t_532301", "5323 1"}, {"漢字", "５３２３０１"},
		{"a-b-c", "532399"}, {"", ""}, {"x\x00y", "532301\x00"}, {strings.Repeat("a", 100), "532302"},
	} {
		f.Add(seed[0], seed[1])
	}
	s := MustOpenSQLite(f)
	p := NewProvisioner(s)
	mustProvision(f, p, prefecture)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, slug, code string) {
		if _, err := s.FindTenantBySlug(ctx, slug); err != nil && !errs.Is(err, errs.NotFound) {
			t.Fatalf("lookup of %q: %v", slug, err)
		}
		in := NewTenant{Slug: slug, NameZH: "测试", Kind: County, AdminCode: code, ParentSlug: prefecture.Slug}
		tn, err := p.validate(ctx, s.db, &in)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("validate(%q, %q): %v, want invalid", slug, code, err)
			}
			return
		}
		for _, id := range []string{tn.SchemaName, tn.DBRole, tn.ReadOnlyRole()} {
			if !dbx.ValidIdent(id) || dbx.QuoteIdent(id) != `"`+id+`"` {
				t.Fatalf("validate(%q, %q) derived the identifier %q", slug, code, id)
			}
		}
		if err := ValidateSlug(tn.Slug); err != nil || strings.ContainsAny(tn.Slug, "'\";\\ ") {
			t.Fatalf("accepted slug %q", tn.Slug)
		}
	})
}

func TestQuoteIdent(t *testing.T) {
	for in, want := range map[string]string{`a`: `"a"`, `a"b`: `"a""b"`, `"; drop`: `"""; drop"`} {
		if got := dbx.QuoteIdent(in); got != want {
			t.Errorf("QuoteIdent(%q) = %q, want %q", in, got, want)
		}
	}
}
