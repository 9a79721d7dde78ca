package monitoring

import (
	"context"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/tenants"
	"github.com/paulmach/orb"
	"github.com/uptrace/bun"
)

// Entitlement is the plan module code that unlocks monitoring.
const Entitlement = "monitoring"

// tokenPrefix starts every device token, so a leaked one is recognisable in a scan.
const tokenPrefix = "cod_"

// Device is one field device of a tenant.
type Device struct {
	bun.BaseModel `bun:"table:monitoring_devices"`
	ID            int64   `bun:"id,pk,autoincrement" json:"-"`
	Code          string  `bun:"code" json:"code"`
	Name          string  `bun:"name" json:"name"`
	Type          string  `bun:"type" json:"type"`
	Lon           float64 `bun:"lon" json:"lon"`
	Lat           float64 `bun:"lat" json:"lat"`
	GridCode      *string `bun:"grid_code" json:"grid_code"`
	ComponentCode *string `bun:"component_code" json:"component_code"`
	TokenHash     string  `bun:"token_hash" json:"-"`
	TokenPrefix   string  `bun:"token_prefix" json:"token_prefix"`
	// MQTTHash is the token hashed for the broker's password file (MosquittoHash): the device's
	// MQTT password is its token.
	MQTTHash   *string   `bun:"mqtt_hash" json:"-"`
	LastSeenMS *int64    `bun:"last_seen" json:"-"`
	CreatedAt  time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt  time.Time `bun:"updated_at" json:"updated_at"`

	// Status ("online" or "offline") and LastSeen are filled in when the device is read.
	Status   string     `bun:"-" json:"status"`
	LastSeen *time.Time `bun:"-" json:"last_seen"`
}

// Settings are a tenant's retention (in days; 0 keeps forever) and the minutes without a reading
// after which a device shows offline.
type Settings struct {
	bun.BaseModel  `bun:"table:monitoring_settings"`
	ID             int       `bun:"id,pk" json:"-"`
	RawDays        int       `bun:"raw_days" json:"raw_days"`
	MinuteDays     int       `bun:"minute_days" json:"minute_days"`
	HourDays       int       `bun:"hour_days" json:"hour_days"`
	DayDays        int       `bun:"day_days" json:"day_days"`
	OfflineMinutes int       `bun:"offline_minutes" json:"offline_minutes"`
	UpdatedAt      time.Time `bun:"updated_at" json:"updated_at"`
}

// DefaultSettings are a tenant's settings until its admin changes them: raw readings 30 days,
// minute rollups 90 days, hour rollups 2 years, day rollups forever; offline after 15 minutes.
var DefaultSettings = Settings{ID: 1, RawDays: 30, MinuteDays: 90, HourDays: 730, DayDays: 0, OfflineMinutes: 15}

// Grids finds the unit grid containing points (grids.Service).
type Grids interface {
	LocateUnits(ctx context.Context, pts []orb.Point) ([]string, error)
}

// Components finds a component of the inventory (catalog.Service).
type Components interface {
	FindComponentByCode(ctx context.Context, code string) (*catalog.ComponentRecord, error)
}

// Config are the Service's dependencies.
type Config struct {
	Gate       *tenants.Store
	Grids      Grids
	Components Components
	// Classes checks the case class of a rule that opens cases (nil: only its form is checked).
	Classes Classes
	Now     func() time.Time
	// MQTT is the ingest over MQTT (its URL empty: HTTP only).
	MQTT MQTT
	// Cipher seals cameras' source URLs with the tenant's key; Video configures live viewing and
	// snapshots (video_gateway.go).
	Cipher Cipher
	Video  VideoConfig
}

// Service owns the devices, their readings and rollups.
type Service struct {
	gate       *tenants.Store
	grids      Grids
	components Components
	now        func() time.Time
	stats      *stats
	classes    Classes
	cases      Cases                // opens alarms' cases (SetCases); nil: they stay pending
	kick       chan *tenants.Tenant // tenants with an alarm's case to open now
	mqtt       MQTT
	cipher     Cipher
	gw         *gateway
	photos     Photos
	videoState
}

// NewService returns the monitoring service.
func NewService(cfg Config) *Service {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Service{gate: cfg.Gate, grids: cfg.Grids, components: cfg.Components, classes: cfg.Classes, now: now, stats: newStats(),
		kick: make(chan *tenants.Tenant, 64), mqtt: cfg.MQTT, cipher: cfg.Cipher, gw: newGateway(cfg.Video)}
}

// DeviceInput is a device to create or the fields of one to change (nil: unchanged).
type DeviceInput struct {
	Code          string   `json:"code"`
	Name          *string  `json:"name"`
	Type          string   `json:"type"`
	Lon           *float64 `json:"lon"`
	Lat           *float64 `json:"lat"`
	GridCode      *string  `json:"grid_code"`
	ComponentCode *string  `json:"component_code"`
}

// DeviceFilter selects devices. Status is "online" or "offline".
type DeviceFilter struct {
	Type, Status, GridCode string
	After                  string // code to continue after
	Limit                  int    // default 500, at most 5000
}

// validCode reports whether s may be a device code: 1–64 letters, digits, '-', '_', '.'.
func validCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// checkText refuses a free text that is too long or not clean UTF-8 (NUL bytes included).
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || utf8.RuneCountInString(s) > max {
		return errs.Field(field, msgTextTooLong, field, max)
	}
	return nil
}

// settings returns the tenant's settings (the defaults when none were saved).
func settingsIn(ctx context.Context, db bun.IDB) (Settings, error) {
	var st Settings
	err := db.NewSelect().Model(&st).Where("id = 1").Scan(ctx)
	if errs.Is(dbx.Translate(err), errs.NotFound) {
		return DefaultSettings, nil
	}
	return st, dbx.Translate(err)
}

// FindSettings returns the tenant's retention and offline settings.
func (s *Service) FindSettings(ctx context.Context) (Settings, error) {
	var st Settings
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		st, err = settingsIn(ctx, db)
		return err
	})
	return st, err
}

// UpdateSettings saves the tenant's settings: raw retention 1–3650 days, the rollups' 0 (forever)
// or at least the finer level's, offline after 1–10080 minutes. Audited as monitoring.settings.
func (s *Service) UpdateSettings(ctx context.Context, in Settings) (Settings, error) {
	switch {
	case in.RawDays < 1 || in.RawDays > 3650:
		return in, errs.Field("raw_days", msgRawDaysRange)
	case !keeps(in.MinuteDays, in.RawDays):
		return in, errs.Field("minute_days", msgRollupDaysRange, "minute_days", "raw_days")
	case !keeps(in.HourDays, in.MinuteDays):
		return in, errs.Field("hour_days", msgRollupDaysRange, "hour_days", "minute_days")
	case !keeps(in.DayDays, in.HourDays):
		return in, errs.Field("day_days", msgRollupDaysRange, "day_days", "hour_days")
	case in.OfflineMinutes < 1 || in.OfflineMinutes > 10080:
		return in, errs.Field("offline_minutes", msgOfflineMinutesRange)
	}
	in.ID, in.UpdatedAt = 1, s.now().UTC()
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&in).On("CONFLICT (id) DO UPDATE").
			Set("raw_days = EXCLUDED.raw_days, minute_days = EXCLUDED.minute_days, hour_days = EXCLUDED.hour_days, day_days = EXCLUDED.day_days, offline_minutes = EXCLUDED.offline_minutes, updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
	if err != nil {
		return in, err
	}
	return in, s.gate.AuditTenant(ctx, "monitoring.settings", "", in)
}

// keeps reports whether a coarser level's retention (0: forever) is valid next to the finer's:
// it keeps at least as long (a finer level forever forces forever).
func keeps(coarse, fine int) bool {
	if coarse < 0 || coarse > 36500 {
		return false
	}
	if fine == 0 {
		return coarse == 0
	}
	return coarse == 0 || coarse >= fine
}

// FindDevices returns devices in code order, with their status.
func (s *Service) FindDevices(ctx context.Context, f DeviceFilter) ([]*Device, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	if f.Type != "" {
		t, ok := FindType(f.Type)
		if !ok {
			return nil, errs.Field("type", msgUnknownType, textutil.Truncate(f.Type, 20), typeCodes())
		}
		f.Type = t.Code
	}
	if f.Status != "" && f.Status != "online" && f.Status != "offline" {
		return nil, errs.Field("status", msgStatusOnlineOffline)
	}
	out := []*Device{}
	var st Settings
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		if st, err = settingsIn(ctx, db); err != nil {
			return err
		}
		q := db.NewSelect().Model(&out).Order("code").Limit(int64(f.Limit))
		if f.Type != "" {
			q = q.Where("type = ?", f.Type)
		}
		if f.GridCode != "" {
			q = q.Where("grid_code = ?", f.GridCode)
		}
		if f.After != "" {
			q = q.Where("code > ?", f.After)
		}
		cut := s.onlineSince(st)
		switch f.Status {
		case "online":
			q = q.Where("last_seen >= ?", cut)
		case "offline":
			q = q.Where("(last_seen IS NULL OR last_seen < ?)", cut)
		}
		return q.Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		s.fill(d, st)
	}
	return out, nil
}

// onlineSince is the earliest last-seen time (ms) of a device still online.
func (s *Service) onlineSince(st Settings) int64 {
	return s.now().Add(-time.Duration(st.OfflineMinutes) * time.Minute).UnixMilli()
}

// fill sets d's derived fields.
func (s *Service) fill(d *Device, st Settings) {
	d.Status = "offline"
	if d.LastSeenMS != nil {
		t := time.UnixMilli(*d.LastSeenMS).UTC()
		d.LastSeen = &t
		if *d.LastSeenMS >= s.onlineSince(st) {
			d.Status = "online"
		}
	}
}

// FindDeviceByCode returns one device.
func (s *Service) FindDeviceByCode(ctx context.Context, code string) (*Device, error) {
	var d Device
	var st Settings
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		if st, err = settingsIn(ctx, db); err != nil {
			return err
		}
		return deviceByCode(ctx, db, code, &d)
	})
	if err != nil {
		return nil, err
	}
	s.fill(&d, st)
	return &d, nil
}

func deviceByCode(ctx context.Context, db bun.IDB, code string, d *Device) error {
	err := dbx.Translate(db.NewSelect().Model(d).Where("code = ?", code).Scan(ctx))
	if errs.Is(err, errs.NotFound) {
		return errs.E(errs.NotFound, msgNoDevice, textutil.Truncate(code, 64))
	}
	return err
}

// checked is a device input made ready to write.
type checked struct {
	d      Device
	locate bool // no grid code given: find it from the point
}

// check validates a new device (or, with old, a change to it) and returns it ready to write;
// the grid and the component are checked against the tenant's data by resolve.
func check(in DeviceInput, old *Device) (*checked, error) {
	c := &checked{}
	if old != nil {
		c.d = *old
	} else {
		if !validCode(in.Code) {
			return nil, errs.Field("code", msgDeviceCode, textutil.Truncate(in.Code, 64))
		}
		c.d.Code = in.Code
		t, ok := FindType(in.Type)
		if !ok {
			return nil, errs.Field("type", msgUnknownType, textutil.Truncate(in.Type, 20), typeCodes())
		}
		c.d.Type = t.Code
		if in.Lon == nil || in.Lat == nil {
			return nil, errs.Field("lon", msgPointNeeded)
		}
	}
	if old != nil && in.Type != "" {
		if t, ok := FindType(in.Type); !ok || t.Code != old.Type {
			return nil, errs.Field("type", msgTypeFixed)
		}
	}
	if in.Name != nil {
		if err := checkText("name", *in.Name, 100); err != nil {
			return nil, err
		}
		c.d.Name = strings.TrimSpace(*in.Name)
	}
	moved := false
	if in.Lon != nil {
		c.d.Lon, moved = *in.Lon, true
	}
	if in.Lat != nil {
		c.d.Lat, moved = *in.Lat, true
	}
	if !grids.InChina(c.d.Lon, c.d.Lat) || math.IsInf(c.d.Lon, 0) || math.IsInf(c.d.Lat, 0) {
		return nil, errs.Field("lon", msgPointNotInChina, textutil.Truncate(fmtFloat(c.d.Lon), 20), textutil.Truncate(fmtFloat(c.d.Lat), 20))
	}
	switch {
	case in.GridCode != nil && strings.TrimSpace(*in.GridCode) != "":
		g := strings.TrimSpace(*in.GridCode)
		if err := checkText("grid_code", g, 20); err != nil {
			return nil, err
		}
		c.d.GridCode = &g
	case in.GridCode != nil || old == nil || moved:
		c.d.GridCode, c.locate = nil, true
	}
	if in.ComponentCode != nil {
		cc := strings.TrimSpace(*in.ComponentCode)
		if err := checkText("component_code", cc, 20); err != nil {
			return nil, err
		}
		c.d.ComponentCode = nil
		if cc != "" {
			c.d.ComponentCode = &cc
		}
	}
	return c, nil
}

// resolve finds the grids of the devices that need one from their points, and refuses a grid
// code the tenant does not have or a component not in its inventory; bad is called with the
// index of each device at fault and the error.
func (s *Service) resolve(ctx context.Context, cs []*checked, bad func(i int, err error)) error {
	var pts []orb.Point
	var at []int
	for i, c := range cs {
		if c.locate {
			pts = append(pts, orb.Point{c.d.Lon, c.d.Lat})
			at = append(at, i)
		}
	}
	if len(pts) > 0 && s.grids != nil {
		codes, err := s.grids.LocateUnits(ctx, pts)
		if err != nil {
			return err
		}
		for j, i := range at {
			if codes[j] != "" {
				g := codes[j]
				cs[i].d.GridCode = &g
			}
		}
	}
	var named []string
	for _, c := range cs {
		if c.d.GridCode != nil && !c.locate {
			named = append(named, *c.d.GridCode)
		}
	}
	known := map[string]bool{}
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for i := 0; i < len(named); i += 500 {
			var have []string
			if err := db.NewSelect().Table("grids").Column("code").Where("code IN (?)", bun.List(named[i:min(i+500, len(named))])).Scan(ctx, &have); err != nil {
				return err
			}
			for _, h := range have {
				known[h] = true
			}
		}
		return nil
	}); err != nil {
		return err
	}
	comps := map[string]error{}
	for i, c := range cs {
		if c.d.GridCode != nil && !c.locate && !known[*c.d.GridCode] {
			bad(i, errs.Field("grid_code", msgNoGrid, *c.d.GridCode))
			continue
		}
		if cc := c.d.ComponentCode; cc != nil && s.components != nil {
			err, seen := comps[*cc]
			if !seen {
				_, err = s.components.FindComponentByCode(ctx, *cc)
				if err != nil && !errs.Is(err, errs.NotFound) {
					return err
				}
				comps[*cc] = err
			}
			if err != nil {
				bad(i, errs.Field("component_code", msgNoComponent, *cc))
			}
		}
	}
	return nil
}

// CreateDevice adds a device and returns it with its token, which is shown this once (only its
// hash is kept). Audited as monitoring.device.create.
func (s *Service) CreateDevice(ctx context.Context, in DeviceInput) (*Device, string, error) {
	return s.createDevice(ctx, in, nil)
}

// createDevice is CreateDevice; also, when not nil, writes what else makes the device (a
// camera's source) in the same transaction.
func (s *Service) createDevice(ctx context.Context, in DeviceInput, also func(ctx context.Context, db bun.IDB, d *Device) error) (*Device, string, error) {
	c, err := check(in, nil)
	if err != nil {
		return nil, "", err
	}
	var fault error
	if err := s.resolve(ctx, []*checked{c}, func(_ int, err error) { fault = err }); err != nil {
		return nil, "", err
	}
	if fault != nil {
		return nil, "", fault
	}
	d := c.d
	token, hash := tenants.NewToken(tokenPrefix)
	d.TokenHash, d.TokenPrefix, d.MQTTHash = hash, token[:len(tokenPrefix)+6], ptr(MosquittoHash(token))
	d.CreatedAt = s.now().UTC()
	d.UpdatedAt = d.CreatedAt
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&d).Returning("id").Exec(ctx)
		if err = dbx.Translate(err); errs.Is(err, errs.Conflict) {
			e := errs.E(errs.Conflict, msgDeviceExists, d.Code)
			e.Field = "code"
			return e
		}
		if err == nil && also != nil {
			err = also(ctx, db, &d)
		}
		return err
	})
	if err != nil {
		return nil, "", err
	}
	d.Status = "offline"
	return &d, token, s.gate.AuditTenant(ctx, "monitoring.device.create", d.Code, map[string]string{"type": d.Type})
}

// UpdateDevice changes a device's name, point, grid or component (its code and type stay).
// Audited as monitoring.device.update.
func (s *Service) UpdateDevice(ctx context.Context, code string, in DeviceInput) (*Device, error) {
	if in.Code != "" && in.Code != code {
		return nil, errs.Field("code", msgCodeFixed)
	}
	old, err := s.FindDeviceByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	c, err := check(in, old)
	if err != nil {
		return nil, err
	}
	var fault error
	if err := s.resolve(ctx, []*checked{c}, func(_ int, err error) { fault = err }); err != nil {
		return nil, err
	}
	if fault != nil {
		return nil, fault
	}
	d := c.d
	d.UpdatedAt = s.now().UTC()
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		res, err := db.NewUpdate().Model(&d).Column("name", "lon", "lat", "grid_code", "component_code", "updated_at").
			Where("id = ?", d.ID).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNoDevice, code)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &d, s.gate.AuditTenant(ctx, "monitoring.device.update", d.Code, nil)
}

// DeleteDevice removes a device with its readings and rollups. Audited as
// monitoring.device.delete.
func (s *Service) DeleteDevice(ctx context.Context, code string) error {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		var d Device
		if err := deviceByCode(ctx, db, code, &d); err != nil {
			return err
		}
		for _, t := range []string{"monitoring_readings", "monitoring_minute", "monitoring_hour", "monitoring_day"} {
			if _, err := db.NewDelete().TableExpr(t).Where("device_id = ?", d.ID).Exec(ctx); err != nil {
				return err
			}
		}
		_, err := db.NewDelete().Model((*Device)(nil)).Where("id = ?", d.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return s.gate.AuditTenant(ctx, "monitoring.device.delete", code, nil)
}

// RotateToken gives a device a new token, returned this once; the old one stops working at once
// over HTTP, and over MQTT when the broker's password file is written again (mqtt-auth).
// Audited as monitoring.device.token.
func (s *Service) RotateToken(ctx context.Context, code string) (*Device, string, error) {
	token, hash := tenants.NewToken(tokenPrefix)
	var d Device
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := deviceByCode(ctx, db, code, &d); err != nil {
			return err
		}
		d.TokenHash, d.TokenPrefix, d.MQTTHash, d.UpdatedAt = hash, token[:len(tokenPrefix)+6], ptr(MosquittoHash(token)), s.now().UTC()
		_, err := db.NewUpdate().Model(&d).Column("token_hash", "token_prefix", "mqtt_hash", "updated_at").Where("id = ?", d.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	st, err := s.FindSettings(ctx)
	if err != nil {
		return nil, "", err
	}
	s.fill(&d, st)
	return &d, token, s.gate.AuditTenant(ctx, "monitoring.device.token", code, map[string]string{"prefix": d.TokenPrefix})
}

func ptr[T any](v T) *T { return &v }
