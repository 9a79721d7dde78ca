package grids

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Atlas is the administrative boundaries shipped with the product (a published data set carried
// by an npm package, app/web/static/vendor/boundaries), so that a tenant's maps show its
// territory before it uploads a surveyed boundary or sets up any tile service.
type Atlas struct {
	source   string
	features []atlasFeature
}

type atlasFeature struct {
	Code, Name string
	Geometry   json.RawMessage
}

// NewAtlas reads a GeoJSON FeatureCollection whose features carry properties code (GB/T 2260)
// and name, and whose "source" member names where it comes from.
func NewAtlas(data []byte) (*Atlas, error) {
	var fc struct {
		Source   string `json:"source"`
		Features []struct {
			Properties struct{ Code, Name string } `json:"properties"`
			Geometry   json.RawMessage             `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, fmt.Errorf("atlas: %w", err)
	}
	a := &Atlas{source: fc.Source}
	for _, f := range fc.Features {
		a.features = append(a.features, atlasFeature{f.Properties.Code, f.Properties.Name, f.Geometry})
	}
	return a, nil
}

// stem is a division's name without its kind (禄丰县 and 禄丰市 are one place renamed).
func stem(name string) string {
	for _, suf := range []string{"自治县", "县", "市", "区"} {
		if s, ok := strings.CutSuffix(name, suf); ok && utf8.RuneCountInString(s) >= 1 {
			return s
		}
	}
	return name
}

// Divisions returns the boundaries of the division code named name: the county itself, or
// for a prefecture (a code ending in 00) every county under it. A county renumbered since the
// data set was published (禄丰县 532331 → 禄丰市 532302) is found by its name in its prefecture.
func (a *Atlas) Divisions(code, name string) []atlasFeature {
	if a == nil || len(code) != 6 {
		return nil
	}
	var out []atlasFeature
	if strings.HasSuffix(code, "00") {
		prefix := code[:4]
		if strings.HasSuffix(code, "0000") {
			prefix = code[:2]
		}
		for _, f := range a.features {
			if strings.HasPrefix(f.Code, prefix) {
				out = append(out, f)
			}
		}
		return out
	}
	for _, f := range a.features {
		if f.Code == code {
			return []atlasFeature{f}
		}
	}
	for _, f := range a.features {
		if strings.HasPrefix(f.Code, code[:4]) && stem(f.Name) == stem(name) {
			return []atlasFeature{f}
		}
	}
	return nil
}

// UseAtlas makes a the shipped boundaries MapBoundary falls back on.
func (s *Service) UseAtlas(a *Atlas) { s.atlas = a }

// MapBoundary returns the tenant's administrative boundary to draw on a map, as a GeoJSON
// FeatureCollection: the boundary the tenant uploaded (property source "tenant"), else its
// division(s) from the shipped atlas (source names the data set), else no features.
func (s *Service) MapBoundary(ctx context.Context) ([]byte, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil {
		return nil, fmt.Errorf("grids: map boundary without a tenant scope")
	}
	type feature struct {
		Type       string            `json:"type"`
		Properties map[string]string `json:"properties"`
		Geometry   json.RawMessage   `json:"geometry"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{"FeatureCollection", []feature{}}
	var bs []Boundary
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return dbx.Translate(db.NewSelect().Model(&bs).Scan(ctx))
	})
	if err != nil {
		return nil, err
	}
	t := sc.Tenant
	if len(bs) > 0 {
		fc.Features = append(fc.Features, feature{"Feature", map[string]string{"code": t.AdminCode, "name": t.NameZH, "source": "tenant"}, json.RawMessage(bs[0].Geometry)})
	} else {
		for _, f := range s.atlas.Divisions(t.AdminCode, t.NameZH) {
			fc.Features = append(fc.Features, feature{"Feature", map[string]string{"code": f.Code, "name": f.Name, "source": s.atlas.source}, f.Geometry})
		}
	}
	return json.Marshal(fc)
}

// PlaceName is a grid a citizen may name as the place of a report.
type PlaceName struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level Level  `json:"level"`
}

// MaxPlaceNames is how many names FindPlaceNames returns at most.
const MaxPlaceNames = 20

// FindPlaceNames returns the tenant's grids whose name contains q (all when q is empty), the
// most precise level first, at most MaxPlaceNames: the public form's place picker. A picked
// name given as the address places the report (Geocode).
func (s *Service) FindPlaceNames(ctx context.Context, q string) ([]PlaceName, error) {
	q = strings.TrimSpace(q)
	var gs []Grid
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return dbx.Translate(db.NewSelect().Model(&gs).Column("code", "level", "name").OrderExpr("code").Scan(ctx))
	})
	if err != nil {
		return nil, err
	}
	out := []PlaceName{}
	for _, rank := range []Level{Community, Unit, Street} {
		for _, g := range gs {
			if g.Level == rank && utf8.RuneCountInString(g.Name) >= 2 && strings.Contains(g.Name, q) && len(out) < MaxPlaceNames {
				out = append(out, PlaceName{g.Code, g.Name, g.Level})
			}
		}
	}
	return out, nil
}
