package monitoring

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// videoState is the Service's memory for video: when each tenant's taken events were last expired.
type videoState struct {
	expiredMu sync.Mutex
	expired   map[uuid.UUID]time.Time
}

// CameraType is the device type of cameras: they report no metrics; they stream video, give
// snapshots and send the events of video analytics (video_events.go).
var CameraType = Type{Code: "camera", Label: msgTypeCamera.ID()}

// The protocols a camera's source may be registered with. The gateway reads every one of them
// as a URL ffmpeg opens: an RTSP camera or NVR channel (rtsp), an ONVIF camera's RTSP profile
// URL with its HTTP snapshot URL (onvif), or the RTSP/HTTP URL a GB/T 28181 platform gives for a
// channel (gb28181: CityOps does not speak SIP itself).
var Protocols = []string{"rtsp", "onvif", "gb28181"}

// MaxSourceURL bounds a camera's stream or snapshot URL.
const MaxSourceURL = 1024

// Cipher seals a camera's source URLs with the tenant's key (secrets.Cipher).
type Cipher interface {
	Encrypt(ctx context.Context, tenant uuid.UUID, plaintext []byte) (string, error)
	Decrypt(ctx context.Context, tenant uuid.UUID, ciphertext string) ([]byte, error)
}

// cameraRow is a camera's source, sealed.
type cameraRow struct {
	bun.BaseModel `bun:"table:monitoring_cameras"`
	DeviceID      int64     `bun:"device_id,pk"`
	Protocol      string    `bun:"protocol"`
	Source        string    `bun:"source"`
	SourceHint    string    `bun:"source_hint"`
	SnapshotURL   string    `bun:"snapshot_url"`
	ExternalPath  string    `bun:"external_path"`
	UpdatedAt     time.Time `bun:"updated_at"`
}

type shareRow struct {
	bun.BaseModel `bun:"table:monitoring_camera_shares"`
	DeviceID      int64     `bun:"device_id,pk"`
	TenantID      string    `bun:"tenant_id,pk"`
	SharedBy      string    `bun:"shared_by"`
	SharedAt      time.Time `bun:"shared_at"`
}

// Camera is a camera as its viewers see it: the device, its protocol and where its stream comes
// from (scheme, host and port only: the URLs stay sealed), and, for a camera shared by the
// prefecture, its owner (the prefecture's slug; empty for the tenant's own cameras).
type Camera struct {
	*Device
	Protocol     string `json:"protocol"`
	SourceHint   string `json:"source"`
	Snapshot     bool   `json:"has_snapshot_url"`
	ExternalPath string `json:"external_path,omitempty"`
	Configured   bool   `json:"configured"`
	// Owner is the slug of the prefecture that shares the camera; the viewer may only watch it.
	Owner string `json:"owner,omitempty"`
	// SharedWith are the counties the tenant's camera is shared with (slugs), for its own cameras.
	SharedWith []string `json:"shared_with,omitempty"`

	owner  *tenants.Tenant
	row    *cameraRow
	viewer *tenants.Tenant
}

// ReadOnly reports whether the viewer may only watch the camera (shared by the prefecture).
func (c *Camera) ReadOnly() bool { return c.Owner != "" }

// Path is where the console and the API address the camera below /monitoring/: cameras/<code>,
// or shared/<owner>/<code> for one the prefecture shares.
func (c *Camera) Path() string {
	if c.Owner != "" {
		return "shared/" + c.Owner + "/" + c.Code
	}
	return "cameras/" + c.Code
}

// SourceInput is a camera's source: the protocol, the stream URL, optionally an HTTP snapshot URL
// and a path on an external media server. URLs may carry the camera's user and password; they
// are sealed with the tenant's key and never returned.
type SourceInput struct {
	Protocol     string `json:"protocol"`
	URL          string `json:"url"`
	SnapshotURL  string `json:"snapshot_url"`
	ExternalPath string `json:"external_path"`
}

// CameraInput is a new camera: the device's fields and its source.
type CameraInput struct {
	DeviceInput
	Source SourceInput `json:"source"`
}

// checkURL validates a stream or snapshot URL: rtsp, rtsps, http or https with a host, no
// spaces, control characters or NUL bytes, at most MaxSourceURL bytes. Only such a URL ever
// reaches ffmpeg, after -i.
func checkURL(field, raw string, schemes ...string) (*url.URL, error) {
	if raw == "" || len(raw) > MaxSourceURL || strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return nil, errs.Field(field, msgSourceURL, field, strings.Join(schemes, ", "), MaxSourceURL)
	}
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" || u.Opaque != "" || strings.HasPrefix(u.Hostname(), "-") {
		return nil, errs.Field(field, msgSourceURL, field, strings.Join(schemes, ", "), MaxSourceURL)
	}
	return u, nil
}

// validExternalPath: a media server path of segments of letters, digits, '-', '_', '.' (no
// "..").
func validExternalPath(p string) bool {
	if p == "" || len(p) > 200 {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || !validCode(seg) {
			return false
		}
	}
	return true
}

// seal validates in and returns the row to store, its URLs sealed with the tenant's key.
func (s *Service) seal(ctx context.Context, tenant uuid.UUID, in SourceInput) (*cameraRow, error) {
	if !slices.Contains(Protocols, in.Protocol) {
		return nil, errs.Field("protocol", msgProtocol, textutil.Truncate(in.Protocol, 20), strings.Join(Protocols, ", "))
	}
	u, err := checkURL("url", in.URL, "rtsp", "rtsps", "http", "https")
	if err != nil {
		return nil, err
	}
	if in.SnapshotURL != "" {
		if _, err := checkURL("snapshot_url", in.SnapshotURL, "http", "https"); err != nil {
			return nil, err
		}
	}
	if in.ExternalPath != "" && !validExternalPath(in.ExternalPath) {
		return nil, errs.Field("external_path", msgExternalPath)
	}
	if s.cipher == nil {
		return nil, errs.E(errs.Unavailable, msgNoCipher)
	}
	row := &cameraRow{Protocol: in.Protocol, ExternalPath: in.ExternalPath, UpdatedAt: s.now().UTC()}
	row.SourceHint = u.Scheme + "://" + u.Host
	if h, p, err := net.SplitHostPort(u.Host); err == nil {
		row.SourceHint = u.Scheme + "://" + net.JoinHostPort(h, p)
	}
	if row.Source, err = s.cipher.Encrypt(ctx, tenant, []byte(in.URL)); err != nil {
		return nil, err
	}
	if in.SnapshotURL != "" {
		if row.SnapshotURL, err = s.cipher.Encrypt(ctx, tenant, []byte(in.SnapshotURL)); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// CreateCamera adds a camera: a device of type camera and its sealed source, in one
// transaction. It returns the camera and the device's token (shown this once), with which the
// camera's analytics post events. Audited as monitoring.device.create and monitoring.camera.source.
func (s *Service) CreateCamera(ctx context.Context, in CameraInput) (*Camera, string, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, "", errs.E(errs.Internal, msgNoScope)
	}
	in.Type = CameraType.Code
	row, err := s.seal(ctx, sc.Tenant.ID, in.Source)
	if err != nil {
		return nil, "", err
	}
	d, tok, err := s.createDevice(ctx, in.DeviceInput, func(ctx context.Context, db bun.IDB, d *Device) error {
		row.DeviceID = d.ID
		_, err := db.NewInsert().Model(row).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	if err := s.gate.AuditTenant(ctx, "monitoring.camera.source", d.Code, map[string]string{"protocol": row.Protocol, "source": row.SourceHint}); err != nil {
		return nil, "", err
	}
	c := s.cameraOf(d, row, nil)
	c.owner, c.viewer = sc.Tenant, sc.Tenant
	return c, tok, nil
}

// SetSource registers or replaces the source of the tenant's camera code. Audited as
// monitoring.camera.source (with the scheme and host only).
func (s *Service) SetSource(ctx context.Context, code string, in SourceInput) (*Camera, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoScope)
	}
	row, err := s.seal(ctx, sc.Tenant.ID, in)
	if err != nil {
		return nil, err
	}
	var d Device
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := cameraDevice(ctx, db, code, &d); err != nil {
			return err
		}
		row.DeviceID = d.ID
		_, err := db.NewInsert().Model(row).On("CONFLICT (device_id) DO UPDATE").
			Set("protocol = EXCLUDED.protocol, source = EXCLUDED.source, source_hint = EXCLUDED.source_hint, snapshot_url = EXCLUDED.snapshot_url, external_path = EXCLUDED.external_path, updated_at = EXCLUDED.updated_at").
			Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.gw.stop(streamKey(sc.Tenant.ID, d.ID)) // the next viewer starts it from the new source
	if err := s.gate.AuditTenant(ctx, "monitoring.camera.source", code, map[string]string{"protocol": row.Protocol, "source": row.SourceHint}); err != nil {
		return nil, err
	}
	return s.FindCamera(ctx, code)
}

// cameraDevice reads the tenant's device code, which must be a camera.
func cameraDevice(ctx context.Context, db bun.IDB, code string, d *Device) error {
	if err := deviceByCode(ctx, db, code, d); err != nil {
		return err
	}
	if d.Type != CameraType.Code {
		return errs.E(errs.NotFound, msgNoCamera, textutil.Truncate(code, 64))
	}
	return nil
}

func (s *Service) cameraOf(d *Device, row *cameraRow, owner *tenants.Tenant) *Camera {
	c := &Camera{Device: d, row: row, owner: owner}
	if row != nil {
		c.Protocol, c.SourceHint, c.Snapshot, c.ExternalPath, c.Configured = row.Protocol, row.SourceHint, row.SnapshotURL != "", row.ExternalPath, true
	}
	if owner != nil {
		c.Owner = owner.Slug
	}
	return c
}

// FindCameras returns the tenant's cameras (code order) and then the cameras its prefecture
// shares with it.
func (s *Service) FindCameras(ctx context.Context) ([]*Camera, error) {
	ds, err := s.FindDevices(ctx, DeviceFilter{Type: CameraType.Code, Limit: 5000})
	if err != nil {
		return nil, err
	}
	sc := tenants.ScopeFrom(ctx)
	out := make([]*Camera, 0, len(ds))
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []*cameraRow
		if err := db.NewSelect().Model(&rows).Scan(ctx); err != nil {
			return err
		}
		var shares []*shareRow
		if err := db.NewSelect().Model(&shares).Order("tenant_id").Scan(ctx); err != nil {
			return err
		}
		by := map[int64]*cameraRow{}
		for _, r := range rows {
			by[r.DeviceID] = r
		}
		for _, d := range ds {
			c := s.cameraOf(d, by[d.ID], nil)
			c.owner, c.viewer = sc.Tenant, sc.Tenant
			for _, sh := range shares {
				if sh.DeviceID == d.ID {
					c.SharedWith = append(c.SharedWith, s.slugOf(ctx, sh.TenantID))
				}
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	shared, err := s.sharedCameras(ctx, "")
	if err != nil {
		return nil, err
	}
	return append(out, shared...), nil
}

// slugOf names a tenant id for a listing (the id itself if the tenant is gone).
func (s *Service) slugOf(ctx context.Context, id string) string {
	u, err := uuid.Parse(id)
	if err != nil {
		return id
	}
	t, err := s.gate.FindTenantByID(ctx, u)
	if err != nil {
		return id
	}
	return t.Slug
}

// FindCamera returns the tenant's camera code.
func (s *Service) FindCamera(ctx context.Context, code string) (*Camera, error) {
	d, err := s.FindDeviceByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if d.Type != CameraType.Code {
		return nil, errs.E(errs.NotFound, msgNoCamera, textutil.Truncate(code, 64))
	}
	sc := tenants.ScopeFrom(ctx)
	c := s.cameraOf(d, nil, nil)
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var row cameraRow
		err := dbx.Translate(db.NewSelect().Model(&row).Where("device_id = ?", d.ID).Scan(ctx))
		if err == nil {
			c = s.cameraOf(d, &row, nil)
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		var shares []*shareRow
		if err := db.NewSelect().Model(&shares).Where("device_id = ?", d.ID).Order("tenant_id").Scan(ctx); err != nil {
			return err
		}
		for _, sh := range shares {
			c.SharedWith = append(c.SharedWith, s.slugOf(ctx, sh.TenantID))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.owner, c.viewer = sc.Tenant, sc.Tenant
	return c, nil
}

// FindSharedCamera returns camera code of the prefecture owner shared with the tenant of ctx's
// scope; NotFound when owner is not the tenant's prefecture or does not share that camera.
func (s *Service) FindSharedCamera(ctx context.Context, owner, code string) (*Camera, error) {
	cs, err := s.sharedCameras(ctx, owner)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Code == code {
			return c, nil
		}
	}
	return nil, errs.E(errs.NotFound, msgNoCamera, textutil.Truncate(owner+"/"+code, 100))
}

// sharedCameras reads the cameras the tenant's ancestors (only owner, when given) share with it.
// It is the one cross-tenant read of video: a read-only transaction in the ancestor's schema
// (under its read-only role on PostgreSQL) that selects only the rows shared with this tenant.
func (s *Service) sharedCameras(ctx context.Context, owner string) ([]*Camera, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoScope)
	}
	viewer := sc.Tenant
	ancs, err := s.gate.Ancestors(ctx, viewer)
	if err != nil {
		return nil, err
	}
	out := []*Camera{}
	for _, a := range ancs {
		if owner != "" && a.Slug != owner {
			continue
		}
		if a.Status != tenants.StatusActive && a.Status != tenants.StatusSuspended {
			continue
		}
		actx := tenants.WithScope(ctx, &tenants.Scope{Tenant: a, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true})
		var ds []*Device
		rows := map[int64]*cameraRow{}
		var st Settings
		err := s.gate.Tx(actx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
			var err error
			if st, err = settingsIn(ctx, db); err != nil {
				return err
			}
			if err := db.NewSelect().Model(&ds).
				Where("type = ? AND id IN (SELECT device_id FROM monitoring_camera_shares WHERE tenant_id = ?)", CameraType.Code, viewer.ID.String()).
				Order("code").Scan(ctx); err != nil {
				return err
			}
			if len(ds) == 0 {
				return nil
			}
			ids := make([]int64, len(ds))
			for i, d := range ds {
				ids[i] = d.ID
			}
			var rs []*cameraRow
			if err := db.NewSelect().Model(&rs).Where("device_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
				return err
			}
			for _, r := range rs {
				rows[r.DeviceID] = r
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			s.fill(d, st)
			d.TokenPrefix = "" // the owner's device token is none of the viewer's business
			c := s.cameraOf(d, rows[d.ID], a)
			c.ExternalPath, c.viewer = "", viewer
			out = append(out, c)
		}
	}
	return out, nil
}

// ShareCamera shares the prefecture's camera code with county (a slug): the county's members see
// and watch it, read-only. Only a prefecture shares, and only with its own counties. Audited as
// monitoring.camera.share.
func (s *Service) ShareCamera(ctx context.Context, code, county string) error {
	return s.share(ctx, code, county, true)
}

// UnshareCamera stops sharing the camera with county. Audited as monitoring.camera.unshare.
func (s *Service) UnshareCamera(ctx context.Context, code, county string) error {
	return s.share(ctx, code, county, false)
}

func (s *Service) share(ctx context.Context, code, county string, on bool) error {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return errs.E(errs.Internal, msgNoScope)
	}
	if sc.Tenant.Kind != tenants.Prefecture {
		return errs.E(errs.Forbidden, msgOnlyPrefectureShares)
	}
	t, err := s.gate.FindTenantBySlug(ctx, county)
	if err != nil || t.ParentID == nil || *t.ParentID != sc.Tenant.ID {
		return errs.Field("tenant", msgNotYourCounty, textutil.Truncate(county, 60))
	}
	var d Device
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if err := cameraDevice(ctx, db, code, &d); err != nil {
			return err
		}
		if !on {
			_, err := db.NewDelete().Model((*shareRow)(nil)).Where("device_id = ? AND tenant_id = ?", d.ID, t.ID.String()).Exec(ctx)
			return err
		}
		by := "system"
		if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
			by = p.Identity.Email
		}
		_, err := db.NewInsert().Model(&shareRow{DeviceID: d.ID, TenantID: t.ID.String(), SharedBy: by, SharedAt: s.now().UTC()}).
			On("CONFLICT (device_id, tenant_id) DO NOTHING").Exec(ctx)
		return err
	})
	if err != nil {
		return err
	}
	action := "monitoring.camera.share"
	if !on {
		action = "monitoring.camera.unshare"
	}
	return s.gate.AuditTenant(ctx, action, code, map[string]string{"tenant": t.Slug})
}

// source opens the camera's sealed stream URL (or, with snapshot, its snapshot URL; "" when it
// has none) with its owner's key.
func (s *Service) source(ctx context.Context, c *Camera, snapshot bool) (string, error) {
	if c.row == nil {
		return "", errs.E(errs.Conflict, msgNoSource, c.Code)
	}
	sealed := c.row.Source
	if snapshot {
		sealed = c.row.SnapshotURL
		if sealed == "" {
			return "", nil
		}
	}
	if s.cipher == nil {
		return "", errs.E(errs.Unavailable, msgNoCipher)
	}
	b, err := s.cipher.Decrypt(ctx, c.owner.ID, sealed)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
