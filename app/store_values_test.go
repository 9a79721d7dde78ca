package app

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// hostileValues are strings that would change a statement written naively into SQL text, or
// that a database cannot hold: NUL, quotes, backslashes, placeholders of both dialects, bun's
// own format marks, bytes that are not UTF-8.
var hostileValues = []string{
	"a\x00b", "O'Brien", `'; DROP TABLE cases; --`, `back\slash\'`, `"double"`, "$1", "?", "?0 ?name",
	"?!(bun: string contains a NUL byte (0x00))", "\xff\xfe", "caf\xe9", "第一行\n第二行", "%s%d%%",
}

// TestStoreMethodsTakeAnyString passes hostile strings, below the HTTP edge, through the store
// methods that take what people type, on both dialects. Each call either stores the value and
// reads it back unchanged, or fails with a validation-class error (4xx) — never with a database
// error (a 500): no value can change a statement's meaning.
func TestStoreMethodsTakeAnyString(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			f := newFixture(t, dialect)
			a := f.app
			s := a.store
			bg := context.Background()
			chuxiong, err := s.FindTenantBySlug(bg, "chuxiong")
			if err != nil {
				t.Fatal(err)
			}
			ctx := tenants.WithScope(bg, tenants.SystemScope(chuxiong))
			clean := func(t *testing.T, what string, err error) bool {
				t.Helper()
				if err == nil {
					return true
				}
				switch errs.CodeOf(err) {
				case errs.Invalid, errs.NotFound, errs.Conflict, errs.Unauthorized, errs.Forbidden, errs.TooLarge, errs.RateLimited:
					return false
				}
				t.Errorf("%s: %v (code %s): a value reached the database as it should not", what, err, errs.CodeOf(err))
				return false
			}
			same := func(t *testing.T, what, got, want string) {
				t.Helper()
				if got != strings.TrimSpace(want) {
					t.Errorf("%s: stored %q, read back %q", what, want, got)
				}
			}
			for i, v := range hostileValues {
				n := strings.Repeat("x", i+1) // unique parts, so that creates do not conflict

				// Control plane.
				if _, err := s.FindTenantBySlug(bg, v); errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.Invalid {
					t.Errorf("FindTenantBySlug(%q): %v", v, err)
				}
				id, err := s.CreateIdentity(bg, tenants.NewIdentity{Email: n + "@t.cn", Name: v, Password: testPassword})
				if clean(t, "CreateIdentity name", err) {
					got, err := s.FindIdentityByEmail(bg, n+"@t.cn")
					if err != nil {
						t.Fatal(err)
					}
					same(t, "identity name", got.Name, v)
					if _, tok, err := s.CreateAPIToken(bg, id.ID, v, 0); clean(t, "CreateAPIToken name", err) {
						same(t, "token name", tok.Name, v)
					}
				}
				_, err = s.CreateIdentity(bg, tenants.NewIdentity{Email: v, Password: testPassword})
				clean(t, "CreateIdentity email", err)
				_, _, err = s.Login(bg, v, v, v, "127.0.0.1")
				clean(t, "Login", err)
				_, err = s.FindIdentityByEmail(bg, v)
				clean(t, "FindIdentityByEmail", err)
				_, _, err = s.Invite(bg, chuxiong, n+"@invite.cn", v, tenants.Inspector)
				clean(t, "Invite name", err)
				_, _, err = s.AcceptInvitation(bg, v, v, v)
				clean(t, "AcceptInvitation", err)
				err = s.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
					_, err := db.NewInsert().Model(&tenants.Setting{Key: "k" + n, Value: v}).Exec(ctx)
					return err
				})
				if clean(t, "setting value", err) {
					var got tenants.Setting
					if err := s.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
						return db.NewSelect().Model(&got).Where("key = ?", "k"+n).Scan(ctx)
					}); err != nil {
						t.Fatal(err)
					}
					if got.Value != v {
						t.Errorf("setting: stored %q, read back %q", v, got.Value)
					}
				}

				// Platform modules, inside the tenant gate.
				dep, err := a.platform.org.CreateDepartment(ctx, org.DepartmentInput{Code: "D" + n, Name: v, Phone: v})
				if clean(t, "CreateDepartment", err) {
					got, err := a.platform.org.FindDepartmentByID(ctx, dep.ID)
					if err != nil {
						t.Fatal(err)
					}
					same(t, "department name", got.Name, v)
				}
				_, err = a.platform.org.CreateDepartment(ctx, org.DepartmentInput{Code: v, Name: "部门" + n})
				clean(t, "CreateDepartment code", err)
				_, err = a.platform.org.FindDepartmentByID(ctx, v)
				clean(t, "FindDepartmentByID", err)
				st, err := a.platform.org.CreateStaff(ctx, org.StaffInput{Name: v, Phone: "1380000" + n[:1]})
				if clean(t, "CreateStaff", err) {
					got, err := a.platform.org.FindStaffByID(ctx, st.ID)
					if err != nil {
						t.Fatal(err)
					}
					same(t, "staff name", got.Name, v)
				}
				_, err = a.platform.org.FindStaffByID(ctx, v)
				clean(t, "FindStaffByID", err)
				_, err = a.platform.catalog.CreateClass(ctx, catalog.ClassInput{Kind: catalog.Event, Code: "9" + string(rune('0'+i%10)), NameZH: v, NameEN: v})
				clean(t, "CreateClass", err)
				_, err = a.platform.catalog.FindClass(ctx, catalog.Event, v)
				clean(t, "FindClass", err)
				_, err = a.platform.grids.FindGridByCode(ctx, v)
				clean(t, "FindGridByCode", err)
				_, err = a.platform.grids.PutResponsibility(ctx, grids.ResponsibilityGrid{Code: "R" + n[:1] + string(rune('a'+i)), Name: v})
				clean(t, "PutResponsibility", err)
				_, err = a.cases.FindCaseByNumber(ctx, v)
				clean(t, "FindCaseByNumber", err)
				_, err = a.cases.FindCaseByID(ctx, v)
				clean(t, "FindCaseByID", err)
				err = s.Suspend(bg, chuxiong, v)
				if clean(t, "Suspend reason", err) {
					if err := s.Reactivate(bg, chuxiong); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}
