package tenants

import (
	"context"
	"strconv"

	"github.com/uptrace/bun"
)

// The settings of a tenant's public map of recent problems (/r/{tenant}/map).
const (
	// PublicMapDaysSetting is how many days back the public map shows problems (1–365).
	PublicMapDaysSetting = "public.map.days"
	// PublicMapPhotosSetting is "true" when the public map may show the problems' photos.
	PublicMapPhotosSetting = "public.map.photos"
	// DefaultPublicMapDays is the public map's window when the tenant has not set one.
	DefaultPublicMapDays = 30
)

// PublicMap is how a tenant shows its public map: the window in days and whether photos show.
type PublicMap struct {
	Days   int  `json:"days"`
	Photos bool `json:"photos"`
}

// FindPublicMap returns the public map settings of the tenant of ctx (30 days, no photos
// unless the tenant said otherwise).
func (s *Store) FindPublicMap(ctx context.Context) (PublicMap, error) {
	pm := PublicMap{Days: DefaultPublicMapDays}
	var st []Setting
	err := s.Tx(ctx, Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&st).Where("key IN (?)", bun.List([]string{PublicMapDaysSetting, PublicMapPhotosSetting})).Scan(ctx)
	})
	for _, v := range st {
		switch v.Key {
		case PublicMapDaysSetting:
			if n, err := strconv.Atoi(v.Value); err == nil && n >= 1 && n <= 365 {
				pm.Days = n
			}
		case PublicMapPhotosSetting:
			pm.Photos = v.Value == "true"
		}
	}
	return pm, err
}

// PutPublicMap sets the public map settings of the tenant of ctx (each audited as setting.put).
func (s *Store) PutPublicMap(ctx context.Context, pm PublicMap, by string) (PublicMap, error) {
	days := strconv.Itoa(pm.Days)
	if err := checkSetting(PublicMapDaysSetting, days); err != nil {
		return pm, err
	}
	if _, err := s.PutSetting(ctx, PublicMapDaysSetting, days, by); err != nil {
		return pm, err
	}
	if _, err := s.PutSetting(ctx, PublicMapPhotosSetting, strconv.FormatBool(pm.Photos), by); err != nil {
		return pm, err
	}
	return pm, nil
}
