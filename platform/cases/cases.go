package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/cache"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/calendar"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it). Administrative changes
// (stage limits) are audited on the tenant of ctx right after they commit.
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Cipher encrypts citizens' personal data with the tenant's key (tenants/secrets.Cipher
// satisfies it). A key store that is down answers errs.Unavailable.
type Cipher interface {
	Encrypt(ctx context.Context, tenant uuid.UUID, plaintext []byte) (string, error)
	Decrypt(ctx context.Context, tenant uuid.UUID, ciphertext string) ([]byte, error)
	// EncryptBatch and DecryptBatch do many values with one key lookup, all or nothing.
	EncryptBatch(ctx context.Context, tenant uuid.UUID, plaintexts [][]byte) ([]string, error)
	DecryptBatch(ctx context.Context, tenant uuid.UUID, ciphertexts []string) ([][]byte, error)
}

// Usage records metered usage ((*billing.Service).Record satisfies it).
type Usage interface {
	Record(ctx context.Context, tenant uuid.UUID, meter string, quantity int64, idempotencyKey string) error
}

// Tenants lists tenants, for the jobs that run over all of them (tenants.Store satisfies it).
type Tenants interface {
	FindTenants(ctx context.Context, f tenants.TenantFilter) ([]*tenants.Tenant, error)
}

// MeterCasesCreated is billing's meter for new cases.
const MeterCasesCreated = "cases_created"

// DefaultMaxPhoto is the largest photo accepted unless Config says otherwise.
const DefaultMaxPhoto = 10 << 20

// Config is what a Service is built from.
type Config struct {
	Gate   Gate
	Cipher Cipher
	Usage  Usage // optional
	// Tenants lists the tenants MarkOverdueAll runs over; without it MarkOverdueAll fails.
	Tenants Tenants
	// Blobs is the object store photos are kept in, under each tenant's prefix. When nil,
	// photos go to a local store in PhotoDir (tests).
	Blobs    blob.Store
	PhotoDir string
	MaxPhoto int64
	Now      func() time.Time
	Logger   *slog.Logger
	// Places places a report inside the transaction that files it (grids.Index; the composition
	// root passes the grids service's, so a grid change is seen at once). Default: an Index of its
	// own, which sees other writers' grid changes within grids.IndexTTL.
	Places Places
	// Classes looks a report's class and standards up inside that transaction (catalog.Entries,
	// the catalog service's; default: its own, which sees changes within catalog.EntryTTL).
	Classes Classes
	// RulesTTL is how long a tenant's calendar and stage limits are reused (DefaultRulesTTL when
	// zero; a negative TTL reads them for every report and action).
	RulesTTL time.Duration
}

// Places is where the case loop places reports: grids.Index satisfies it.
type Places interface {
	ResolveIn(ctx context.Context, db bun.IDB, lon, lat float64) (*grids.Resolution, error)
	WithinBoundaryIn(ctx context.Context, db bun.IDB, lon, lat float64) (bool, error)
}

// Classes is where the case loop looks classes and their standards up: catalog.Entries
// satisfies it.
type Classes interface {
	LookupIn(ctx context.Context, db bun.IDB, kind catalog.Kind, code string) (*catalog.Entry, error)
}

// Service runs the case loop of every tenant through the gate.
type Service struct {
	gate     Gate
	cipher   Cipher
	usage    Usage
	tenants  Tenants
	blobs    blob.Store
	maxPhoto int64
	now      func() time.Time
	log      *slog.Logger
	places   Places
	classes  Classes
	rules    *cache.Cache[uuid.UUID, *rules]
	group    *group // reports' write transactions
}

// NewService returns a Service built from cfg.
func NewService(cfg Config) *Service {
	s := &Service{gate: cfg.Gate, cipher: cfg.Cipher, usage: cfg.Usage, tenants: cfg.Tenants, blobs: cfg.Blobs, maxPhoto: cfg.MaxPhoto, now: cfg.Now, log: cfg.Logger,
		places: cfg.Places, classes: cfg.Classes}
	if s.places == nil {
		s.places = grids.NewIndex()
	}
	if s.classes == nil {
		s.classes = catalog.NewEntries()
	}
	if cfg.RulesTTL == 0 {
		cfg.RulesTTL = DefaultRulesTTL
	}
	s.rules = cache.New[uuid.UUID, *rules](10_000, cfg.RulesTTL)
	s.group = newGroup(s, cfg.Gate)
	if s.now == nil {
		s.now = clock.Now
	}
	if s.blobs == nil {
		s.blobs = blob.NewLocal(cfg.PhotoDir)
	}
	if s.maxPhoto <= 0 {
		s.maxPhoto = DefaultMaxPhoto
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "cases")
	return s
}

// SetMaxPhoto changes the photo size cap (tests use a small one).
func (s *Service) SetMaxPhoto(n int64) { s.maxPhoto = n }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Source is where a report came from.
type Source string

// The sources of reports.
const (
	FromInspector Source = "inspector" // 监督员 patrol
	FromCitizen   Source = "citizen"   // web, app, walk-in
	FromHotline   Source = "hotline"   // 12345
	FromVideo     Source = "video"     // video surveillance
	FromReferral  Source = "referral"  // a higher level's referral
	FromMedia     Source = "media"
	FromSensor    Source = "sensor" // operation monitoring
)

// Sources lists every source.
var Sources = []Source{FromInspector, FromCitizen, FromHotline, FromVideo, FromReferral, FromMedia, FromSensor}

// Reporter is the citizen who reported a case, as the caller may see it: Visibility is "clear"
// (decrypted for the posts that need it), "masked", "unavailable" (the key store is down) or
// "destroyed" (the tenant's key was destroyed).
type Reporter struct {
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Visibility string `json:"visibility"`
}

// Case is one case of the loop.
type Case struct {
	bun.BaseModel      `bun:"table:cases"`
	ID                 string              `bun:"id,pk" json:"id"`
	Number             string              `bun:"number" json:"number"`
	Seq                int64               `bun:"seq" json:"-"`
	State              State               `bun:"state" json:"state"`
	Version            int                 `bun:"version" json:"version"`
	Source             Source              `bun:"source" json:"source"`
	Kind               catalog.Kind        `bun:"kind" json:"kind"`
	ClassCode          string              `bun:"class_code" json:"class_code"`
	Description        string              `bun:"description" json:"description"`
	Address            string              `bun:"address" json:"address"`
	Lon                float64             `bun:"lon" json:"lon"`
	Lat                float64             `bun:"lat" json:"lat"`
	GridCode           *string             `bun:"grid_code" json:"grid_code"`
	ResponsibilityCode *string             `bun:"responsibility_code" json:"responsibility_code"`
	InspectorID        *string             `bun:"inspector_id" json:"inspector_id"`
	ReporterNameEnc    *string             `bun:"reporter_name_enc" json:"-"`
	ReporterPhoneEnc   *string             `bun:"reporter_phone_enc" json:"-"`
	Reporter           *Reporter           `bun:"-" json:"reporter,omitempty"`
	ReportedBy         string              `bun:"reported_by" json:"reported_by"`
	StandardID         *string             `bun:"standard_id" json:"standard_id"`
	DepartmentID       *string             `bun:"department_id" json:"department_id"`
	LimitAmount        *float64            `bun:"limit_amount" json:"-"`
	LimitUnit          *calendar.Unit      `bun:"limit_unit" json:"-"`
	Limit              *calendar.Limit     `bun:"-" json:"limit"`
	ExtensionsText     string              `bun:"extensions" json:"-"`
	Extensions         []calendar.Limit    `bun:"-" json:"extensions"`
	PausesText         string              `bun:"pauses" json:"-"`
	Pauses             []calendar.Interval `bun:"-" json:"pauses"`
	PendingText        string              `bun:"pending" json:"-"`
	PendingExtension   *calendar.Limit     `bun:"-" json:"pending_extension,omitempty"`
	ClockStart         *time.Time          `bun:"clock_start" json:"clock_start"`
	DeadlineAt         *time.Time          `bun:"deadline_at" json:"deadline"`
	ClockStoppedAt     *time.Time          `bun:"clock_stopped_at" json:"clock_stopped_at"`
	Overdue            bool                `bun:"overdue" json:"overdue"`
	OvertimeMultiple   float64             `bun:"overtime_multiple" json:"overtime_multiple"`
	// Urgent cases count their stage limits in urgent hours (StageLimit).
	Urgent bool `bun:"urgent" json:"urgent"`
	// Stage is the timed step the case is in ("" once closed or voided), with its own clock:
	// started when the case entered it, the limit it got then, the deadline, overdue flag and
	// overtime multiple. In the handling stage these mirror the disposal clock.
	Stage                 Stage           `bun:"stage" json:"stage"`
	StageStartedAt        *time.Time      `bun:"stage_started_at" json:"stage_started_at"`
	StageLimitAmount      *float64        `bun:"stage_limit_amount" json:"-"`
	StageLimitUnit        *calendar.Unit  `bun:"stage_limit_unit" json:"-"`
	StageLimit            *calendar.Limit `bun:"-" json:"stage_limit"`
	StageDeadlineAt       *time.Time      `bun:"stage_deadline_at" json:"stage_deadline"`
	StageOverdue          bool            `bun:"stage_overdue" json:"stage_overdue"`
	StageOvertimeMultiple float64         `bun:"stage_overtime_multiple" json:"stage_overtime_multiple"`
	Supervised            bool            `bun:"supervised" json:"supervised"`
	SelfHandled           bool            `bun:"self_handled" json:"self_handled"`
	CreatedAt             time.Time       `bun:"created_at" json:"created_at"`
	UpdatedAt             time.Time       `bun:"updated_at" json:"updated_at"`
	ClosedAt              *time.Time      `bun:"closed_at" json:"closed_at"`
	// Events is the timeline, oldest first (FindCaseByID only).
	Events []Event `bun:"-" json:"events,omitempty"`
	// Photos are the case's photos (FindCaseByID only).
	Photos []Photo `bun:"-" json:"photos,omitempty"`
}

// decode fills the fields kept as text.
func (c *Case) decode() error {
	if c.LimitAmount != nil && c.LimitUnit != nil {
		c.Limit = &calendar.Limit{Amount: *c.LimitAmount, Unit: *c.LimitUnit}
	}
	if c.StageLimitAmount != nil && c.StageLimitUnit != nil {
		c.StageLimit = &calendar.Limit{Amount: *c.StageLimitAmount, Unit: *c.StageLimitUnit}
	}
	c.Extensions, c.Pauses, c.PendingExtension = []calendar.Limit{}, []calendar.Interval{}, nil
	if err := json.Unmarshal([]byte(c.ExtensionsText), &c.Extensions); err != nil {
		return fmt.Errorf("case %s extensions: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(c.PausesText), &c.Pauses); err != nil {
		return fmt.Errorf("case %s pauses: %w", c.ID, err)
	}
	if c.PendingText != "" {
		c.PendingExtension = &calendar.Limit{}
		if err := json.Unmarshal([]byte(c.PendingText), c.PendingExtension); err != nil {
			return fmt.Errorf("case %s pending: %w", c.ID, err)
		}
	}
	return nil
}

// encode writes the fields kept as text back.
func (c *Case) encode() {
	if c.Limit != nil {
		a, u := c.Limit.Amount, c.Limit.Unit
		c.LimitAmount, c.LimitUnit = &a, &u
	} else {
		c.LimitAmount, c.LimitUnit = nil, nil
	}
	c.StageLimitAmount, c.StageLimitUnit = nil, nil
	if c.StageLimit != nil {
		a, u := c.StageLimit.Amount, c.StageLimit.Unit
		c.StageLimitAmount, c.StageLimitUnit = &a, &u
	}
	b, _ := json.Marshal(c.Extensions)
	c.ExtensionsText = string(b)
	b, _ = json.Marshal(c.Pauses)
	c.PausesText = string(b)
	c.PendingText = ""
	if c.PendingExtension != nil {
		b, _ = json.Marshal(c.PendingExtension)
		c.PendingText = string(b)
	}
}

// timer is the case's disposal clock, nil before dispatch.
func (c *Case) timer() *calendar.Timer {
	if c.ClockStart == nil || c.Limit == nil {
		return nil
	}
	return &calendar.Timer{Start: *c.ClockStart, Limit: *c.Limit, Extensions: c.Extensions, Pauses: c.Pauses}
}

// refreshClock recomputes deadline, overdue and overtime multiple at now (or where the clock
// stopped, after feedback).
func (c *Case) refreshClock(cal *calendar.Calendar, now time.Time) error {
	t := c.timer()
	if t == nil {
		c.DeadlineAt, c.Overdue, c.OvertimeMultiple = nil, false, 0
		return nil
	}
	at := now
	if c.ClockStoppedAt != nil {
		at = *c.ClockStoppedAt
	}
	st, err := cal.Status(*t, at)
	if err != nil {
		return err
	}
	d := st.Deadline.UTC().Truncate(time.Microsecond)
	c.DeadlineAt, c.Overdue, c.OvertimeMultiple = &d, st.Overdue, st.OvertimeMultiple
	return nil
}

// clockActions are the actions that start, move, stop or reset the disposal clock; their events
// record the deadline after the action (detail.deadline: RFC 3339 UTC, or null while the clock is
// not running).
var clockActions = []Action{Dispatch, ApproveExtension, ApproveSuspension, Resume, ApproveReturn, Feedback, Rework}

// runningDeadline is the disposal deadline while the clock runs (refreshClock first), nil before
// dispatch, after a return, while suspended (挂账) and once feedback stopped it.
func (c *Case) runningDeadline() *time.Time {
	if c.timer() == nil || c.ClockStoppedAt != nil {
		return nil
	}
	if n := len(c.Pauses); n > 0 && c.Pauses[n-1].To.IsZero() {
		return nil
	}
	return c.DeadlineAt
}

// Event is one row of a case's append-only history.
type Event struct {
	bun.BaseModel   `bun:"table:case_events"`
	ID              string          `bun:"id,pk" json:"id"`
	CaseID          string          `bun:"case_id" json:"-"`
	Version         int             `bun:"version" json:"version"`
	Action          Action          `bun:"action" json:"action"`
	From            string          `bun:"from_state" json:"from"`
	To              State           `bun:"to_state" json:"to"`
	ActorID         string          `bun:"actor_id" json:"actor_id"`
	ActorEmail      string          `bun:"actor_email" json:"actor_email"`
	Post            tenants.Role    `bun:"post" json:"post"`
	Reason          string          `bun:"reason" json:"reason"`
	AttachmentsText string          `bun:"attachments" json:"-"`
	Attachments     []string        `bun:"-" json:"attachments"`
	Detail          json.RawMessage `bun:"detail,type:text" json:"detail"`
	At              time.Time       `bun:"at" json:"at"`
}

// actor is who acts: the request's identity and scope.
type actor struct {
	id, email string
	scope     *tenants.Scope
	client    *Client
}

// Client is a program that acts without a person's identity, such as an Open311 client app
// reporting for a citizen. The history names it (actor and reported_by "<kind>:<name>", and the
// event's detail.client) instead of "system".
type Client struct {
	Kind string `json:"kind"` // e.g. open311
	ID   string `json:"id"`   // the program's stable id (its api key's id)
	Name string `json:"name"` // its name as the tenant registered it
}

type clientKey struct{}

// WithClient returns ctx acting as client c, for a caller with no identity of its own.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, &c)
}

func actorOf(ctx context.Context) (actor, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return actor{}, errs.E(errs.Internal, msgCaseLoopUsedWithoutTenant)
	}
	a := actor{id: "system", scope: sc}
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		a.id, a.email = p.Identity.ID.String(), p.Identity.Email
	} else if c, ok := ctx.Value(clientKey{}).(*Client); ok && c.Name != "" {
		a.id, a.client = textutil.Truncate(c.Kind+":"+c.Name, 120), c
	}
	return a, nil
}

// ReportInput is a new report.
type ReportInput struct {
	Source        Source       `json:"source"`
	Kind          catalog.Kind `json:"kind"`
	ClassCode     string       `json:"class_code"`
	Description   string       `json:"description"`
	Address       string       `json:"address"`
	Lon           float64      `json:"lon"`
	Lat           float64      `json:"lat"`
	ReporterName  string       `json:"reporter_name"`
	ReporterPhone string       `json:"reporter_phone"`
	// SelfHandled (自处理): an inspector fixed it on the spot; the case is created closed, and
	// its photos are uploaded to it afterwards.
	SelfHandled bool `json:"self_handled"`
	// PlacedBy says how an approximate location was found (e.g. the grid an address names); it
	// is kept in the report's event, so that staff know the point is not exact. Set by intake
	// code, not by API clients.
	PlacedBy string `json:"-"`
}

func (in *ReportInput) check(post tenants.Role) error {
	in.Description, in.Address = strings.TrimSpace(in.Description), strings.TrimSpace(in.Address)
	in.ReporterName, in.ReporterPhone = strings.TrimSpace(in.ReporterName), strings.TrimSpace(in.ReporterPhone)
	if in.Source == "" {
		in.Source = FromCitizen
		if post == tenants.Inspector {
			in.Source = FromInspector
		}
	}
	if !slices.Contains(Sources, in.Source) {
		return errs.Field("source", msgSourceNotOneInspectorCitizen, textutil.Truncate(string(in.Source), 20))
	}
	if post == tenants.Inspector && in.Source != FromInspector {
		return errs.Field("source", msgInspectorReportsFromPatrolSource)
	}
	if post != tenants.Inspector && in.Source == FromInspector {
		return errs.Field("source", msgOnlyInspectorReportsSourceInspector)
	}
	if in.SelfHandled && post != tenants.Inspector {
		return errs.Field("self_handled", msgOnlyInspectorHandlesCaseSpot)
	}
	k, ok := catalog.ParseKind(string(in.Kind))
	if !ok {
		return errs.Field("kind", msgKindComponentEvent)
	}
	in.Kind = k
	if len([]rune(in.Description)) > 2000 || len([]rune(in.Address)) > 200 {
		return errs.Field("description", msgDescriptionMostCharactersAddressMost)
	}
	if len([]rune(in.ReporterName)) > 50 || len(in.ReporterPhone) > 30 {
		return errs.Field("reporter_phone", msgReporterNameMostCharactersPhone)
	}
	return nil
}

// Report creates a case from a report (上报), or a self-handled case (自处理) already closed.
// A point outside the tenant's boundary (grids.WithinBoundaryIn) is refused as invalid.
// The reporter's name and phone are encrypted before anything is written: with the key store
// down the report fails with errs.Unavailable and nothing is stored.
func (s *Service) Report(ctx context.Context, in ReportInput) (*Case, error) {
	return s.report(ctx, in, "")
}

// report is Report, writing key (when not "") with the case (ReportOnce).
func (s *Service) report(ctx context.Context, in ReportInput, key string) (*Case, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	post, ok := postFor(a.scope, ReportPosts)
	if !ok {
		return nil, errs.E(errs.Forbidden, msgCasesReportedInspectorEnteredAcceptor)
	}
	// Someone holding both posts reports as an inspector from patrol and as an acceptor otherwise.
	if a.scope.Has(tenants.Inspector) && a.scope.Has(tenants.Acceptor) {
		post = tenants.Acceptor
		if in.Source == FromInspector || in.SelfHandled {
			post = tenants.Inspector
		}
	}
	if err := in.check(post); err != nil {
		return nil, err
	}
	tenant := a.scope.Tenant
	c := &Case{Source: in.Source, Kind: in.Kind, ClassCode: in.ClassCode, Description: in.Description,
		Address: in.Address, Lon: in.Lon, Lat: in.Lat, ReportedBy: a.id, SelfHandled: in.SelfHandled}
	var plain [][]byte
	var dsts []**string
	for _, f := range []struct {
		plain string
		dst   **string
	}{{in.ReporterName, &c.ReporterNameEnc}, {in.ReporterPhone, &c.ReporterPhoneEnc}} {
		if f.plain != "" {
			plain, dsts = append(plain, []byte(f.plain)), append(dsts, f.dst)
		}
	}
	if len(plain) > 0 {
		cts, err := s.cipher.EncryptBatch(ctx, tenant.ID, plain)
		if err != nil {
			return nil, err
		}
		for i := range cts {
			*dsts[i] = &cts[i]
		}
	}
	r := &report{ctx: ctx, in: in, a: a, post: post, c: c, key: key}
	err = s.group.write(r)
	if err != nil {
		return nil, err
	}
	if s.usage != nil {
		if err := s.usage.Record(context.WithoutCancel(ctx), tenant.ID, MeterCasesCreated, 1, "case:"+c.ID); err != nil {
			s.log.Error("usage not recorded; the case is created", "tenant", tenant.Slug, "case", c.ID, "err", err)
		}
	}
	if (c.ReporterNameEnc != nil || c.ReporterPhoneEnc != nil) && !masked(a, c) {
		c.Reporter = &Reporter{Name: in.ReporterName, Phone: in.ReporterPhone, Visibility: "clear"} // as just encrypted
	}
	return c, nil
}

// report is one report on its way to the database.
type report struct {
	ctx  context.Context
	in   ReportInput
	a    actor
	post tenants.Role
	c    *Case  // filled by prepare, numbered by insertReports
	ev   *Event // its first event, filled by prepare
	// key is the client's idempotency key (ReportOnce), written with the case; "" for none.
	key string
}

// prepare fills the case from what the tenant knows (class and standards, rules, grids: cached
// reads) without writing. It may run twice for one report (in a group that fails, then alone)
// and sets everything each time.
func (s *Service) prepare(ctx context.Context, db bun.IDB, r *report) error {
	in, c := &r.in, r.c
	c.GridCode, c.ResponsibilityCode, c.InspectorID = nil, nil, nil
	entry, err := s.classes.LookupIn(ctx, db, in.Kind, in.ClassCode)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.Field("class_code", msgMessage, errs.MessageOf(err))
		}
		return err
	}
	c.Urgent = len(entry.Standards) > 0 && !slices.ContainsFunc(entry.Standards, func(st catalog.Standard) bool { return !st.Limit.Unit.Natural() })
	rules, err := s.rulesFor(ctx, db, r.a.scope.Tenant.ID)
	if err != nil {
		return err
	}
	// A point outside the tenant's boundary is not this tenant's to handle (a point outside
	// China is refused by ResolveIn, with the hint that lon comes first).
	if grids.InChina(in.Lon, in.Lat) {
		inside, err := s.places.WithinBoundaryIn(ctx, db, in.Lon, in.Lat)
		if err != nil {
			return err
		}
		if !inside {
			name := r.a.scope.Tenant.NameZH
			return errs.Field("lat", msgPointGGLiesOutside, in.Lon, in.Lat, name, name)
		}
	}
	res, err := s.places.ResolveIn(ctx, db, in.Lon, in.Lat)
	switch {
	case err == nil:
		c.GridCode = &res.Unit.Code
		if res.Responsibility != nil {
			c.ResponsibilityCode = &res.Responsibility.Code
		}
		if res.InspectorID != "" {
			c.InspectorID = &res.InspectorID
		}
	case errs.Is(err, errs.NotFound):
		// A point outside every unit grid is still a report; the grid stays empty.
	default:
		return err
	}
	now := s.clock()
	c.State, c.Version, c.CreatedAt, c.UpdatedAt, c.ClosedAt = Reported, 1, now, now, nil
	action := Report
	if in.SelfHandled {
		c.State, c.ClosedAt, action = Closed, &now, SelfHandle
	}
	c.Extensions, c.Pauses = []calendar.Limit{}, []calendar.Interval{}
	c.enterStage(rules, StageOf(c.State), now)
	if err := c.refreshStage(rules.cal, now); err != nil {
		return err
	}
	c.encode()
	var detail map[string]any
	if r.a.client != nil || in.PlacedBy != "" {
		detail = map[string]any{}
		if r.a.client != nil {
			detail["client"] = r.a.client
		}
		if in.PlacedBy != "" {
			detail["placed_by"] = in.PlacedBy
		}
	}
	r.ev, err = newEvent(c, Event{Action: action, From: "", To: c.State, ActorID: r.a.id, ActorEmail: r.a.email, Post: r.post, At: now}, detail)
	return err
}

// insertReports numbers prepared reports of one tenant and inserts them with their first
// events: per year, one counter update, one insert for the cases and one for the events, however
// many reports there are. On PostgreSQL the three are one call of insert_reports
// (insertReportsPG).
func insertReports(ctx context.Context, db bun.IDB, tenant *tenants.Tenant, rs []*report) error {
	byYear := map[int][]*report{}
	var years []int
	for _, r := range rs {
		y := r.c.CreatedAt.In(clock.China).Year()
		if _, ok := byYear[y]; !ok {
			years = append(years, y)
		}
		byYear[y] = append(byYear[y], r)
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		r.c.ID, r.ev.CaseID = id.String(), id.String()
	}
	slices.Sort(years)
	for _, year := range years {
		yrs := byYear[year]
		cs, evs := make([]*Case, len(yrs)), make([]*Event, len(yrs))
		for i, r := range yrs {
			cs[i], evs[i] = r.c, r.ev
		}
		if db.Dialect().Name() == dialect.PG {
			if err := insertReportsPG(ctx, db, tenant, year, cs, evs); err != nil {
				return err
			}
			continue
		}
		var last int64
		if err := db.NewRaw(counterSQL, year, len(yrs)).Scan(ctx, &last); err != nil {
			return err
		}
		number(tenant, year, last, cs)
		if _, err := db.NewInsert().Model(&cs).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		if _, err := db.NewInsert().Model(&evs).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
	}
	return insertReportKeys(ctx, db, rs)
}

// counterSQL takes the next numbers of a year: it returns the last one taken.
const counterSQL = "INSERT INTO case_counters (year, last) VALUES (?, ?) ON CONFLICT (year) DO UPDATE SET last = case_counters.last + EXCLUDED.last RETURNING last"

// number gives cs the numbers up to and including last of year, in order.
func number(tenant *tenants.Tenant, year int, last int64, cs []*Case) {
	for i, c := range cs {
		n := last - int64(len(cs)) + int64(i) + 1
		c.Seq = int64(year)*100_000_000 + n
		c.Number = fmt.Sprintf("%s-%d-%06d", tenant.AdminCode, year, n)
	}
}

// insertReportsPG is the counter update, the cases and their events of one year in one call of
// the tenant's insert_reports function (tenant migration 0022): the rows travel as JSON
// documents, the numbers are computed there exactly as number computes them, and the statements
// inside are planned once per connection rather than for every group.
func insertReportsPG(ctx context.Context, db bun.IDB, tenant *tenants.Tenant, year int, cs []*Case, evs []*Event) error {
	caseRows, err := jsonRows(db, cs)
	if err != nil {
		return err
	}
	eventRows, err := jsonRows(db, evs)
	if err != nil {
		return err
	}
	var last int64
	if err := db.NewRaw("SELECT insert_reports(?, ?, ?::jsonb, ?::jsonb)", year, fmt.Sprintf("%s-%d-", tenant.AdminCode, year),
		string(caseRows), string(eventRows)).Scan(ctx, &last); err != nil {
		return dbx.Translate(err)
	}
	number(tenant, year, last, cs)
	return nil
}

// jsonRows returns the rows of a bun model as a JSON array of objects keyed by column, for
// jsonb_populate_record.
func jsonRows[T any](db bun.IDB, rows []*T) ([]byte, error) {
	fields := db.Dialect().Tables().Get(reflect.TypeFor[T]()).Fields
	docs := make([]map[string]any, len(rows))
	for i, r := range rows {
		v := reflect.ValueOf(r).Elem()
		doc := make(map[string]any, len(fields))
		for _, f := range fields {
			val := f.Value(v).Interface()
			if raw, ok := val.(json.RawMessage); ok {
				val = string(raw) // a text column holding JSON
			}
			doc[f.Name] = val
		}
		docs[i] = doc
	}
	return json.Marshal(docs)
}

// newEvent completes e as the next event of c.
func newEvent(c *Case, e Event, detail any) (*Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	e.ID, e.CaseID, e.Version = id.String(), c.ID, c.Version
	if e.Attachments == nil {
		e.Attachments = []string{}
	}
	b, _ := json.Marshal(e.Attachments)
	e.AttachmentsText = string(b)
	if detail == nil {
		detail = map[string]any{}
	}
	e.Detail, _ = json.Marshal(detail)
	return &e, nil
}

func appendEvent(ctx context.Context, db bun.IDB, c *Case, e Event, detail any) error {
	ev, err := newEvent(c, e, detail)
	if err != nil {
		return err
	}
	_, err = db.NewInsert().Model(ev).Exec(ctx)
	return dbx.Translate(err)
}

// revealPosts see the reporter's name and phone in clear; everyone else sees them masked.
var revealPosts = []tenants.Role{tenants.Acceptor, tenants.ShiftLead, tenants.TenantAdmin}

// reveal fills c.Reporter for the caller. A key store that is down or a destroyed key does not
// hide the case: only the personal data is marked unavailable.
func (s *Service) reveal(ctx context.Context, a actor, c *Case) {
	if (c.ReporterNameEnc == nil && c.ReporterPhoneEnc == nil) || masked(a, c) {
		return
	}
	var cts []string
	var dsts []*string
	r := &Reporter{Visibility: "clear"}
	for _, f := range []struct {
		ct  *string
		dst *string
	}{{c.ReporterNameEnc, &r.Name}, {c.ReporterPhoneEnc, &r.Phone}} {
		if f.ct != nil {
			cts, dsts = append(cts, *f.ct), append(dsts, f.dst)
		}
	}
	plain, err := s.cipher.DecryptBatch(ctx, a.scope.Tenant.ID, cts)
	switch {
	case err == nil:
		for i, p := range plain {
			*dsts[i] = string(p)
		}
	case errs.Is(err, errs.Destroyed):
		r = &Reporter{Visibility: "destroyed"}
	default:
		s.log.Warn("reporter not decrypted", "case", c.ID, "err", err)
		r = &Reporter{Visibility: "unavailable"}
	}
	c.Reporter = r
}

// masked fills c.Reporter with the masked reporter and reports true when the caller may not see
// the reporter in clear.
func masked(a actor, c *Case) bool {
	if !a.scope.ReadOnly && a.scope.Has(revealPosts...) {
		return false
	}
	c.Reporter = &Reporter{Visibility: "masked"}
	if c.ReporterNameEnc != nil {
		c.Reporter.Name = "***"
	}
	if c.ReporterPhoneEnc != nil {
		c.Reporter.Phone = "***"
	}
	return true
}

// FindCaseByID returns a case with its timeline and photos.
func (s *Service) FindCaseByID(ctx context.Context, id string) (*Case, error) {
	a, err := actorOf(ctx)
	if err != nil {
		return nil, err
	}
	var c *Case
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		if c, err = findCase(ctx, db, id); err != nil {
			return err
		}
		if err := db.NewSelect().Model(&c.Events).Where("case_id = ?", id).Order("version").Scan(ctx); err != nil {
			return err
		}
		for i := range c.Events {
			e := &c.Events[i]
			e.Attachments = []string{}
			if err := json.Unmarshal([]byte(e.AttachmentsText), &e.Attachments); err != nil {
				return fmt.Errorf("event %s attachments: %w", e.ID, err)
			}
		}
		c.Photos = []Photo{}
		return db.NewSelect().Model(&c.Photos).Where("case_id = ?", id).Order("created_at", "id").Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	s.reveal(ctx, a, c)
	return c, nil
}

func findCase(ctx context.Context, db bun.IDB, id string) (*Case, error) {
	c := &Case{}
	if err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.E(errs.NotFound, msgNoCase, textutil.Truncate(id, 40))
		}
		return nil, dbx.Translate(err)
	}
	return c, c.decode()
}
