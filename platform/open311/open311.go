package open311

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/platform/org"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it). The operator's changes
// (api keys, public services) are audited on their tenant right after they commit.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditNow(ctx context.Context, action string, tenant *uuid.UUID, target string, detail any) error
}

// Tenants finds a jurisdiction's tenant by its slug (tenants.Store satisfies it).
type Tenants interface {
	FindTenantBySlug(ctx context.Context, slug string) (*tenants.Tenant, error)
}

// Cases is what Open311 needs of the case loop ((*cases.Service) satisfies it).
type Cases interface {
	Report(ctx context.Context, in cases.ReportInput) (*cases.Case, error)
	AddPhoto(ctx context.Context, id string, data []byte) (*cases.Photo, error)
	FindCases(ctx context.Context, f cases.Filter) (*cases.Page, error)
	FindCaseByID(ctx context.Context, id string) (*cases.Case, error)
	FindCaseByNumber(ctx context.Context, number string) (*cases.Case, error)
}

// Classes lists a tenant's component and event classes ((*catalog.Service) satisfies it).
type Classes interface {
	FindClasses(ctx context.Context, f catalog.ClassFilter) ([]catalog.Class, error)
}

// Departments lists a tenant's departments ((*org.Service) satisfies it).
type Departments interface {
	FindDepartments(ctx context.Context) ([]org.Department, error)
}

// Geocoder places an address in the tenant's grids ((*grids.Service) satisfies it).
type Geocoder interface {
	Geocode(ctx context.Context, address string) (grids.Place, bool, error)
}

// DefaultMaxResults is the spec's cap on GET requests: at most 1000 requests.
const DefaultMaxResults = 1000

// DefaultWindow is the spec's default date range of GET requests.
const DefaultWindow = 90 * 24 * time.Hour

// MaxMedia is the largest photo a POST may carry (the case module's own cap applies too).
const MaxMedia = cases.DefaultMaxPhoto

// Config is what a Service is built from.
type Config struct {
	Gate        Gate
	Tenants     Tenants
	Cases       Cases
	Classes     Classes
	Departments Departments
	// Geocoder places requests that give only an address_string (none: such requests are refused).
	Geocoder Geocoder
	// MaxResults caps GET requests and updates (DefaultMaxResults when 0; tests use a small one).
	MaxResults int
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service answers GeoReport v2 for every tenant.
type Service struct {
	gate       Gate
	tenants    Tenants
	cases      Cases
	classes    Classes
	depts      Departments
	geocoder   Geocoder
	maxResults int
	now        func() time.Time
	log        *slog.Logger
}

// NewService returns a Service built from cfg.
func NewService(cfg Config) *Service {
	s := &Service{gate: cfg.Gate, tenants: cfg.Tenants, cases: cfg.Cases, classes: cfg.Classes, depts: cfg.Departments,
		geocoder: cfg.Geocoder, maxResults: cfg.MaxResults, now: cfg.Now, log: cfg.Logger}
	if s.maxResults <= 0 {
		s.maxResults = DefaultMaxResults
	}
	if s.now == nil {
		s.now = clock.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "open311")
	return s
}

// SetMaxResults changes the cap on GET requests (tests use a small one).
func (s *Service) SetMaxResults(n int) { s.maxResults = n }

// ReadScope is how Open311 reads a tenant: a read-only viewer, so personal data comes back
// masked (and is dropped by the mapping anyway) and the database refuses any write.
func ReadScope(t *tenants.Tenant) *tenants.Scope {
	return &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Viewer}, ReadOnly: true}
}

// intakeScope is how a citizen's report is entered: as the acceptor post (every source but
// patrol is entered by an acceptor), nothing more.
func intakeScope(t *tenants.Tenant) *tenants.Scope {
	return &tenants.Scope{Tenant: t, Roles: []tenants.Role{tenants.Acceptor}}
}

func readCtx(ctx context.Context, t *tenants.Tenant) context.Context {
	return tenants.WithScope(ctx, ReadScope(t))
}

// Jurisdiction resolves a jurisdiction_id (the tenant's slug): Invalid when missing, NotFound
// when no tenant in service has it.
func (s *Service) Jurisdiction(ctx context.Context, id string) (*tenants.Tenant, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, errs.Field("jurisdiction_id", msgJurisdictionIdRequiredTenantId)
	}
	t, err := s.tenants.FindTenantBySlug(ctx, id)
	if err != nil {
		if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
			return nil, errs.E(errs.NotFound, msgNoJurisdiction, textutil.Truncate(id, 40))
		}
		return nil, err
	}
	if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended {
		return nil, errs.E(errs.NotFound, msgNoJurisdiction, textutil.Truncate(id, 40))
	}
	return t, nil
}

// ServiceCode is the GeoReport code of a minor class: "event-0101" or "component-0101" (the
// 4-digit minor codes of components and events overlap).
func ServiceCode(kind catalog.Kind, code string) string { return string(kind) + "-" + code }

// ParseServiceCode splits a ServiceCode.
func ParseServiceCode(s string) (catalog.Kind, string, bool) {
	k, code, ok := strings.Cut(s, "-")
	kind, kok := catalog.ParseKind(k)
	if !ok || !kok || len(code) != 4 || strings.Trim(code, "0123456789") != "" {
		return "", "", false
	}
	return kind, code, true
}

// publicRow is one service the tenant opens to the public.
type publicRow struct {
	bun.BaseModel `bun:"table:open311_services"`
	Kind          catalog.Kind `bun:"kind,pk"`
	ClassCode     string       `bun:"class_code,pk"`
	CreatedAt     time.Time    `bun:"created_at"`
}

// services returns the tenant's public minor classes by service code, with the class.
func (s *Service) services(ctx context.Context, t *tenants.Tenant) (map[string]catalog.Class, []string, error) {
	ctx = readCtx(ctx, t)
	var rows []publicRow
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rows).Scan(ctx)
	}); err != nil {
		return nil, nil, err
	}
	if len(rows) == 0 {
		return map[string]catalog.Class{}, nil, nil
	}
	all, err := s.classes.FindClasses(ctx, catalog.ClassFilter{Level: "minor"})
	if err != nil {
		return nil, nil, err
	}
	byKey := map[string]catalog.Class{}
	for _, c := range all {
		byKey[ServiceCode(c.Kind, c.Code)] = c
	}
	out, order := map[string]catalog.Class{}, []string{}
	for _, r := range rows {
		code := ServiceCode(r.Kind, r.ClassCode)
		if c, ok := byKey[code]; ok { // a class removed from the catalog is no longer offered
			out[code] = c
			order = append(order, code)
		}
	}
	slices.Sort(order)
	return out, order, nil
}

// Services lists the tenant's public services.
func (s *Service) Services(ctx context.Context, t *tenants.Tenant) ([]PublicService, error) {
	m, order, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	out := []PublicService{}
	for _, code := range order {
		out = append(out, serviceOf(m[code]))
	}
	return out, nil
}

func serviceOf(c catalog.Class) PublicService {
	name := c.NameZH
	if c.NameEN != "" {
		name += " / " + c.NameEN
	}
	group := "事件 events"
	if c.Kind == catalog.Component {
		group = "部件 components"
	}
	return PublicService{Code: ServiceCode(c.Kind, c.Code), Name: name, Description: name, Metadata: false, Type: "realtime", Keywords: c.NameZH, Group: group}
}

// ServiceDefinition returns the definition of a public service; it has no extra attributes.
func (s *Service) ServiceDefinition(ctx context.Context, t *tenants.Tenant, code string) (*ServiceDefinition, error) {
	m, _, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	if _, ok := m[code]; !ok {
		return nil, errs.E(errs.NotFound, msgNoServiceJurisdiction, textutil.Truncate(code, 40))
	}
	return &ServiceDefinition{ServiceCode: code, Attributes: []Attribute{}}, nil
}

// addService opens minor class (kind, code) to the public. It must exist in the tenant's catalog.
func (s *Service) addService(ctx context.Context, t *tenants.Tenant, kind catalog.Kind, code string) error {
	ctx = tenants.WithScope(ctx, tenants.SystemScope(t))
	cs, err := s.classes.FindClasses(ctx, catalog.ClassFilter{Kind: kind, Level: "minor"})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cs, func(c catalog.Class) bool { return c.Code == code }) {
		return errs.E(errs.NotFound, msgNoMinorClass, kind, textutil.Truncate(code, 10))
	}
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&publicRow{Kind: kind, ClassCode: code, CreatedAt: s.now().UTC()}).On("CONFLICT DO NOTHING").Exec(ctx)
		return dbx.Translate(err)
	})
}

// removeService closes a service to the public; its requests stay in the case loop.
func (s *Service) removeService(ctx context.Context, t *tenants.Tenant, kind catalog.Kind, code string) error {
	ctx = tenants.WithScope(ctx, tenants.SystemScope(t))
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		res, err := db.NewDelete().Model((*publicRow)(nil)).Where("kind = ? AND class_code = ?", kind, code).Exec(ctx)
		if err != nil {
			return dbx.Translate(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, msgNotPublicService, ServiceCode(kind, code))
		}
		return nil
	})
}

// RequestInput is a POST requests body, as parsed by ParseRequestInput.
type RequestInput struct {
	APIKey        string
	ServiceCode   string
	Lat, Long     *float64
	AddressString string
	AddressID     string
	Email         string
	DeviceID      string
	AccountID     string
	FirstName     string
	LastName      string
	Phone         string
	Description   string
	MediaURL      string
	// Media is the uploaded photo (multipart field "media"), if any.
	Media []byte
}

// request is the row linking a token to the case it created.
type request struct {
	bun.BaseModel `bun:"table:open311_requests"`
	Token         string    `bun:"token,pk"`
	CaseID        string    `bun:"case_id"`
	KeyID         string    `bun:"key_id"`
	MediaURL      string    `bun:"media_url"`
	CreatedAt     time.Time `bun:"created_at"`
}

// CreateRequest checks the api key, the service and the location, and reports a case with
// source citizen (the reporter's name and phone are encrypted by the case module; the e-mail
// address is not kept). The case is created at once, so the receipt carries both the token and
// the service_request_id.
func (s *Service) CreateRequest(ctx context.Context, t *tenants.Tenant, in RequestInput) (*Receipt, error) {
	key, err := s.checkKey(ctx, t, in.APIKey)
	if err != nil {
		return nil, err
	}
	return s.createRequest(ctx, t, in, key, cases.Client{Kind: "open311", ID: key.ID, Name: key.Name})
}

// createRequest is CreateRequest once the client is known: key is the key row the request is
// recorded under, client who the case's history names as reporter.
func (s *Service) createRequest(ctx context.Context, t *tenants.Tenant, in RequestInput, key *Key, client cases.Client) (*Receipt, error) {
	if t.Status != tenants.StatusActive {
		return nil, errs.E(errs.Forbidden, msgJurisdictionSuspendedTakesNoNew, t.Slug)
	}
	m, _, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.ServiceCode) == "" {
		return nil, errs.Field("service_code", msgServiceCodeRequired)
	}
	class, ok := m[in.ServiceCode]
	if !ok {
		return nil, errs.E(errs.NotFound, msgNoServiceJurisdiction, textutil.Truncate(in.ServiceCode, 40))
	}
	if (in.Lat == nil || in.Long == nil) && strings.TrimSpace(in.AddressString) == "" && strings.TrimSpace(in.AddressID) == "" {
		return nil, errs.Field("lat", msgLocationRequiredLatLongAddress)
	}
	// Cases are placed on the grid map by their point. An address alone is placed in the grid it
	// names (the tenant's grid names are its gazetteer), and the case's history says so; an
	// address that names no grid is refused rather than stored at a made-up point.
	var placedIn *grids.Place
	if in.Lat == nil || in.Long == nil {
		address := strings.TrimSpace(in.AddressString)
		if address == "" || s.geocoder == nil {
			return nil, errs.Field("lat", msgJurisdictionNeedsLatLongWgs84)
		}
		p, ok, err := s.geocoder.Geocode(tenants.WithScope(ctx, intakeScope(t)), address)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errs.Field("address_string", msgAddressNamesNoneJurisdictionStreets, textutil.Truncate(address, 80))
		}
		placedIn = &p
		in.Lat, in.Long = &p.Lat, &p.Lon
	}
	if lat, lon := *in.Lat, *in.Long; !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return nil, errs.Field("lat", msgLatBetweenLongBetweenWgs84)
	}
	if len(in.Media) > 0 {
		if len(in.Media) > MaxMedia {
			return nil, errs.E(errs.TooLarge, msgMediaPhotoMayMostMib, MaxMedia>>20)
		}
		switch http.DetectContentType(in.Media) {
		case "image/jpeg", "image/png", "image/webp":
		default:
			return nil, errs.Field("media", msgMediaPhotoJpegPngWebp)
		}
	}
	if len(in.MediaURL) > 500 || (in.MediaURL != "" && !strings.HasPrefix(in.MediaURL, "https://") && !strings.HasPrefix(in.MediaURL, "http://")) {
		return nil, errs.Field("media_url", msgMediaUrlHttpUrlMost)
	}
	rin := cases.ReportInput{Source: cases.FromCitizen, Kind: class.Kind, ClassCode: class.Code, Description: in.Description,
		Address: strings.TrimSpace(in.AddressString), ReporterName: strings.TrimSpace(in.FirstName + " " + in.LastName), ReporterPhone: in.Phone}
	if rin.Address == "" && in.AddressID != "" {
		rin.Address = in.AddressID
	}
	rin.Lat, rin.Lon = *in.Lat, *in.Long
	if placedIn != nil {
		rin.PlacedBy = "address:" + placedIn.Grid.Code + " " + placedIn.Grid.Name
	}
	// The history names the client app that reported, not "system".
	ictx := cases.WithClient(tenants.WithScope(ctx, intakeScope(t)), client)
	c, err := s.cases.Report(ictx, rin)
	if err != nil {
		return nil, err
	}
	r := &request{Token: uuid.NewString(), CaseID: c.ID, KeyID: key.ID, MediaURL: in.MediaURL, CreatedAt: s.now().UTC()}
	if err := s.gate.Tx(ictx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(r).Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return nil, err
	}
	notice := "已受理，编号 " + c.Number + " / received as case " + c.Number
	if placedIn != nil {
		notice += "；位置按地址估计在" + placedIn.Grid.Name + " / placed by its address in " + placedIn.Grid.Name + " (" + placedIn.Grid.Code + ")"
	}
	if len(in.Media) > 0 {
		if _, err := s.cases.AddPhoto(ictx, c.ID, in.Media); err != nil {
			// The report stands; say that the photo did not make it.
			s.log.Warn("open311 photo not stored; the request is created", "tenant", t.Slug, "case", c.ID, "err", err)
			notice += "; 照片未保存 / the photo was not stored: " + errs.MessageOf(err)
		}
	}
	return &Receipt{ID: c.ID, Token: r.Token, ServiceNotice: notice, AccountID: in.AccountID}, nil
}

// FindToken returns the request created with token.
func (s *Service) FindToken(ctx context.Context, t *tenants.Tenant, token string) (*Receipt, error) {
	var rs []request
	err := s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rs).Where("token = ?", token).Limit(1).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errs.E(errs.NotFound, msgNoToken, textutil.Truncate(token, 40))
	}
	return &Receipt{ID: rs[0].CaseID, Token: rs[0].Token}, nil
}

// AddServiceCode opens the minor class of serviceCode (event-0101) in t to the public; it must
// exist in the tenant's catalog. It is audited as open311.service_add.
func (s *Service) AddServiceCode(ctx context.Context, t *tenants.Tenant, serviceCode string) error {
	kind, code, ok := ParseServiceCode(serviceCode)
	if !ok {
		return errs.Field("service_code", msgServiceCodeReadsEventComponent)
	}
	if err := s.addService(ctx, t, kind, code); err != nil {
		return err
	}
	return s.gate.AuditNow(ctx, "open311.service_add", &t.ID, serviceCode, nil)
}

// RemoveServiceCode closes the service serviceCode in t to the public; its requests stay in the
// case loop. It is audited as open311.service_remove.
func (s *Service) RemoveServiceCode(ctx context.Context, t *tenants.Tenant, serviceCode string) error {
	kind, code, ok := ParseServiceCode(serviceCode)
	if !ok {
		return errs.Field("service_code", msgServiceCodeReadsEventComponent)
	}
	if err := s.removeService(ctx, t, kind, code); err != nil {
		return err
	}
	return s.gate.AuditNow(ctx, "open311.service_remove", &t.ID, serviceCode, nil)
}
