package tenants

import (
	"context"
	"strings"
	"testing"

	"github.com/cityops/cityops/internal/errs"
)

// TestDivisionsReference: the full GB/T 2260 list is loaded on both dialects, with its special
// cases, and is a consistent hierarchy.
func TestDivisionsReference(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		all, err := s.FindDivisions(ctx, DivisionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		provinces, err := s.FindDivisions(ctx, DivisionFilter{Level: LevelProvince})
		if err != nil {
			t.Fatal(err)
		}
		if len(provinces) != 34 {
			t.Errorf("%d provinces, want 34", len(provinces))
		}
		byCode := map[string]Division{}
		for _, d := range append(all, provinces...) {
			byCode[d.Code] = d
		}
		levels := map[Level]int{}
		for _, d := range all {
			levels[d.Level]++
			p, ok := byCode[d.ParentCode]
			switch {
			case !ok:
				t.Errorf("%s %s: no parent %q", d.Code, d.NameZH, d.ParentCode)
			case d.Level == LevelPrefecture && p.Level != LevelProvince,
				d.Level.CountyLevel() && d.Code[2:4] != "90" && p.Level != LevelPrefecture,
				d.Level.CountyLevel() && d.Code[2:4] == "90" && p.Level != LevelProvince,
				!d.Level.CountyLevel() && d.Level != LevelPrefecture,
				p.Code[:2] != d.Code[:2]:
				t.Errorf("%s %s (%s) under %s %s (%s)", d.Code, d.NameZH, d.Level, p.Code, p.NameZH, p.Level)
			}
		}
		county := levels[LevelCounty] + levels[LevelCity] + levels[LevelDistrict]
		if levels[LevelPrefecture] < 330 || levels[LevelPrefecture] > 345 || county < 2800 || county > 2900 {
			t.Errorf("%d prefecture-level and %d county-level divisions (%v), want about 338 and 2,846", levels[LevelPrefecture], county, levels)
		}
		for code, want := range map[string]string{
			"110100": "市辖区 prefecture 110000", "110101": "东城区 district 110100", // a municipality
			"500200": "县 prefecture 500000", "500229": "城口县 county 500200",
			"429004": "仙桃市 city 420000", "419001": "济源市 city 410000", "469001": "五指山市 city 460000", // province-administered
			"532300": "楚雄彝族自治州 prefecture 530000", "532301": "楚雄市 city 532300", "532302": "禄丰市 city 532300",
			"532325": "姚安县 county 532300", "520203": "六枝特区 county 520200", "441900": "东莞市 prefecture 440000",
		} {
			d, err := s.FindDivisionByCode(ctx, code)
			if err != nil {
				t.Errorf("%s: %v", code, err)
				continue
			}
			if got := d.NameZH + " " + string(d.Level) + " " + d.ParentCode; got != want {
				t.Errorf("%s: got %s, want %s", code, got, want)
			}
		}
		// The rows of 0002 keep their English names; pseudo-prefectures and superseded codes are gone.
		if d, err := s.FindDivisionByCode(ctx, "532325"); err != nil || d.NameEN != "Yao'an" {
			t.Errorf("532325: %+v %v, want the English name Yao'an", d, err)
		}
		for _, code := range []string{"429000", "469000", "532331", "992300"} {
			if _, err := s.FindDivisionByCode(ctx, code); !errs.Is(err, errs.NotFound) {
				t.Errorf("%s: got %v, want not found", code, err)
			}
		}
		// The filters the onboarding wizard uses.
		yunnan, err := s.FindDivisions(ctx, DivisionFilter{Province: "53"})
		if err != nil || len(yunnan) < 100 || len(yunnan) > 200 {
			t.Fatalf("Yunnan: %d divisions, %v", len(yunnan), err)
		}
		for _, d := range yunnan {
			if d.Code[:2] != "53" || d.Level == LevelProvince {
				t.Errorf("Yunnan lists %s %s (%s)", d.Code, d.NameZH, d.Level)
			}
		}
		kids, err := s.FindDivisions(ctx, DivisionFilter{Parent: "532300"})
		if err != nil || len(kids) != 10 || kids[0].Code != "532301" || kids[9].Code != "532329" {
			t.Fatalf("楚雄州's children: %v %v", kids, err)
		}
	})
}

// TestProvisionChecksDivision: the admin code must be a division of the reference list, of a level
// that fits the kind, and a county-level tenant's parent must be the prefecture it belongs to.
func TestProvisionChecksDivision(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		p := NewProvisioner(s)
		mustProvision(t, p, prefecture)
		mustProvision(t, p, NewTenant{Slug: "dali-zhou", NameZH: "大理州", Kind: Prefecture, AdminCode: "532900"})
		refused := []struct {
			name  string
			in    NewTenant
			field string
			want  string
		}{
			{"unknown county code", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532399", ParentSlug: "chuxiong-zhou"}, "admin_code", "not in the GB/T 2260 list"},
			{"unknown prefecture code", NewTenant{Slug: "x1", NameZH: "x", Kind: Prefecture, AdminCode: "539900"}, "admin_code", "not in the GB/T 2260 list"},
			{"unknown province", NewTenant{Slug: "x1", NameZH: "x", Kind: Prefecture, AdminCode: "992300"}, "admin_code", "not in the GB/T 2260 list"},
			{"superseded code", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532331", ParentSlug: "chuxiong-zhou"}, "admin_code", "not in the GB/T 2260 list"},
			{"province code", NewTenant{Slug: "x1", NameZH: "x", Kind: Prefecture, AdminCode: "530000"}, "admin_code", "云南省 (530000) is a province"},
			{"prefecture with a county code", NewTenant{Slug: "x1", NameZH: "x", Kind: Prefecture, AdminCode: "532325"}, "admin_code", "姚安县 (532325) is a county-level division"},
			{"county with a prefecture code", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532500"}, "admin_code", "is a prefecture-level division"},
			{"district with a prefecture code", NewTenant{Slug: "x1", NameZH: "x", Kind: District, AdminCode: "110100"}, "admin_code", "市辖区 (110100) is a prefecture-level division"},
			{"county of another prefecture", NewTenant{Slug: "x1", NameZH: "x", Kind: City, AdminCode: "532901", ParentSlug: "chuxiong-zhou"}, "admin_code",
				"大理市 (532901) belongs to 大理白族自治州 (532900), not to the parent tenant 楚雄州 (532300)"},
			{"county under the other prefecture", NewTenant{Slug: "x1", NameZH: "x", Kind: County, AdminCode: "532325", ParentSlug: "dali-zhou"}, "admin_code",
				"belongs to 楚雄彝族自治州 (532300), not to the parent tenant 大理州 (532900)"},
			{"province-administered under a prefecture", NewTenant{Slug: "x1", NameZH: "x", Kind: City, AdminCode: "429004", ParentSlug: "chuxiong-zhou"}, "parent",
				"仙桃市 (429004) is administered directly by 湖北省"},
		}
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				_, err := p.Provision(ctx, tc.in)
				if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field || !strings.Contains(errs.MessageOf(err), tc.want) {
					t.Fatalf("got %v (field %q), want invalid %s: …%s…", err, errs.FieldOf(err), tc.field, tc.want)
				}
				if zh := errs.MessageIn(err, "zh-CN"); zh == errs.MessageOf(err) {
					t.Errorf("no Chinese wording: %s", zh)
				}
			})
		}
		ts, err := s.FindTenants(ctx, TenantFilter{IncludeDeleted: true})
		if err != nil || len(ts) != 2 {
			t.Fatalf("the refusals left %d tenants (%v), want the two prefectures", len(ts), err)
		}
		// Real divisions under their real prefectures are accepted, of any county-level kind; so is
		// a county whose prefecture is not a tenant (no parent), a province-administered unit, and a
		// municipality's 市辖区 with one of its districts.
		for _, in := range []NewTenant{
			{Slug: "yaoan", NameZH: "姚安县", Kind: County, AdminCode: "532325", ParentSlug: "chuxiong-zhou"},
			{Slug: "lufeng", NameZH: "禄丰市", Kind: City, AdminCode: "532302", ParentSlug: "chuxiong-zhou"},
			{Slug: "dali", NameZH: "大理市", Kind: City, AdminCode: "532901", ParentSlug: "dali-zhou"},
			{Slug: "gejiu", NameZH: "个旧市", Kind: County, AdminCode: "532501"},
			{Slug: "xiantao", NameZH: "仙桃市", Kind: City, AdminCode: "429004"},
			{Slug: "beijing", NameZH: "北京市", Kind: Prefecture, AdminCode: "110100"},
			{Slug: "dongcheng", NameZH: "东城区", Kind: District, AdminCode: "110101", ParentSlug: "beijing"},
		} {
			if res, err := p.Provision(ctx, in); err != nil || res.Tenant.Status != StatusActive {
				t.Errorf("%s %s: %v", in.AdminCode, in.NameZH, err)
			}
		}
	})
}

func TestValidateAdminCode(t *testing.T) {
	for _, code := range []string{"532301", "110100", "992300"} {
		if err := ValidateAdminCode(code); err != nil {
			t.Errorf("%q: %v", code, err)
		}
	}
	for _, code := range []string{"", "5323", "5323011", "53230'", "５３２３０１", "532301\x00"} {
		if err := ValidateAdminCode(code); errs.FieldOf(err) != "admin_code" {
			t.Errorf("%q: got %v, want an admin_code error", code, err)
		}
	}
}
