package main

import (
	"strings"
	"testing"
)

// TestConvert: the special cases of GB/T 2260 on a few rows in the package's shape.
func TestConvert(t *testing.T) {
	provinces := [][]string{{"110000", "北京市", "11"}, {"420000", "湖北省", "42"}, {"500000", "重庆市", "50"}, {"530000", "云南省", "53"}}
	cities := [][]string{{"420100", "武汉市", "42", "01"}, {"429000", "湖北省-自治区直辖县级行政区划", "42", "90"}, {"532300", "楚雄彝族自治州", "53", "23"}}
	areas := [][]string{
		{"110101", "东城区", "11", "01", "01"}, {"420102", "江岸区", "42", "01", "02"}, {"429004", "仙桃市", "42", "90", "04"},
		{"429021", "神农架林区", "42", "90", "21"}, {"500101", "万州区", "50", "01", "01"}, {"500229", "城口县", "50", "02", "29"},
		{"532301", "楚雄市", "53", "23", "01"}, {"532331", "禄丰县", "53", "23", "31"}, {"532322", "双柏县", "53", "23", "22"},
	}
	ds, err := convert(provinces, cities, areas)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Code+" "+d.Name+" "+d.Level+" "+d.Parent)
	}
	want := []string{
		"110000 北京市 province ", "110100 市辖区 prefecture 110000", "110101 东城区 district 110100",
		"420000 湖北省 province ", "420100 武汉市 prefecture 420000", "420102 江岸区 district 420100",
		"429004 仙桃市 city 420000", "429021 神农架林区 county 420000",
		"500000 重庆市 province ", "500100 市辖区 prefecture 500000", "500101 万州区 district 500100",
		"500200 县 prefecture 500000", "500229 城口县 county 500200",
		"530000 云南省 province ", "532300 楚雄彝族自治州 prefecture 530000", "532301 楚雄市 city 532300", "532322 双柏县 county 532300",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A county-level code without its prefecture, outside a municipality, is an error.
	if _, err := convert(provinces, cities, [][]string{{"530102", "五华区", "53", "01", "02"}}); err == nil {
		t.Fatal("a county without its prefecture was accepted")
	}
	// A superseded code whose replacement appears in the source must be retired from the list.
	if _, err := convert(provinces, cities, [][]string{{"532331", "禄丰县"}, {"532302", "禄丰市"}}); err == nil ||
		!strings.Contains(err.Error(), "superseded") {
		t.Fatalf("superseded and its replacement both in the source: %v", err)
	}
}

func TestMigrationSQL(t *testing.T) {
	ds := []division{{"530000", "云南省", "province", ""}, {"532300", "楚雄彝族自治州", "prefecture", "530000"}, {"532325", "姚安县", "county", "532300"},
		{"540000", "西藏自治区", "province", ""}}
	sql := migrationSQL(ds, map[string]int{}, "test")
	for _, want := range []string{
		"    ('530000', '云南省', 'province', NULL),\n    ('532300', '楚雄彝族自治州', 'prefecture', '530000'),\n    ('532325', '姚安县', 'county', '532300')\nON CONFLICT",
		"    ('540000', '西藏自治区', 'province', NULL)\nON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, level = excluded.level, parent_code = excluded.parent_code;\n",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("missing %q in\n%s", want, sql)
		}
	}
	if strings.Count(sql, "INSERT INTO") != 2 || strings.Contains(sql, "name_en") && !strings.Contains(sql, "name_en is not written") {
		t.Errorf("one INSERT per province, no name_en:\n%s", sql)
	}
	if got := quote("Yao'an"); got != "'Yao''an'" {
		t.Errorf("quote: %s", got)
	}
}
