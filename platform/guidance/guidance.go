package guidance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
)

// Indicators gives a county's own monthly figures (the evaluation's totals: reported, filed,
// closed, closed_on_time, inspector_reported), read in the tenant of ctx; a report template's
// indicator fields are pre-filled from them.
type Indicators interface {
	Monthly(ctx context.Context, year int, month time.Month) (map[string]int64, error)
}

// IndicatorNames are the indicators a template's field may be pre-filled from.
var IndicatorNames = []string{"reported", "filed", "closed", "closed_on_time", "inspector_reported"}

// Config is what the service needs.
type Config struct {
	Gate *tenants.Store
	// Blobs keeps the notices' attachments and the responses' photos (nil: no files).
	Blobs      blob.Store
	Indicators Indicators
	// Reminders raises the counties' reminders (nil: none are raised).
	Reminders Reminders
	// Outbox queues the prefecture's reports to the province for the data exchange (nil: they
	// are recorded, not queued).
	Outbox Outbox
	Now    func() time.Time
	Log    *slog.Logger
}

// Service is the guidance and supervision service.
type Service struct {
	gate   *tenants.Store
	blobs  blob.Store
	ind    Indicators
	remind Reminders
	outbox Outbox
	now    func() time.Time
	log    *slog.Logger
	// Channel is the one crossing between the prefecture and its counties.
	Channel *Channel
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	s := &Service{gate: cfg.Gate, blobs: cfg.Blobs, ind: cfg.Indicators, remind: cfg.Reminders, outbox: cfg.Outbox, now: cfg.Now, log: cfg.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.Channel = &Channel{gate: cfg.Gate}
	return s
}

// The roles that act for a unit in these flows: the prefecture's publishing and scoring, a
// county's acknowledging and answering. Everyone else reads.
var actingRoles = []tenants.Role{tenants.TenantAdmin, tenants.Leader, tenants.ShiftLead}

// asPrefecture returns the prefecture of ctx's scope, refusing a scope that is not a writing
// member of a prefecture (write) or not a prefecture at all.
func asPrefecture(ctx context.Context, write bool) (*tenants.Tenant, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNotPrefecture)
	}
	if sc.Tenant.Kind != tenants.Prefecture {
		return nil, errs.E(errs.NotFound, msgNotPrefecture)
	}
	if write && (sc.ReadOnly || !sc.Has(actingRoles...)) {
		return nil, errs.E(errs.Forbidden, msgNotPrefecture)
	}
	return sc.Tenant, nil
}

// asCounty returns the county of ctx's scope; write refuses a scope that may not act for it.
func asCounty(ctx context.Context, write bool) (*tenants.Tenant, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoPrefecture)
	}
	if write && (sc.ReadOnly || !sc.Has(actingRoles...)) {
		return nil, errs.E(errs.Forbidden, msgNeedsIdentity)
	}
	return sc.Tenant, nil
}

// actor is who acts, for the records: the signed-in person's email, or "system".
func actor(ctx context.Context) string {
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		return p.Identity.Email
	}
	return "system"
}

// cleanText checks a required text field: trimmed, 1..max characters, valid UTF-8, no NUL.
func cleanText(field, label string, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || !okText(s, max) {
		return "", errs.Field(field, msgBadText, label, max)
	}
	return strings.Clone(s), nil
}

// optionalText checks an optional text field.
func optionalText(field, label string, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !okText(s, max) {
		return "", errs.Field(field, msgBadOptional, label, max)
	}
	return strings.Clone(s), nil
}

func okText(s string, max int) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0) && utf8.RuneCountInString(s) <= max
}

// checkID refuses an id that is not a UUID (ids come from the path).
func checkID(field, id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return "", errs.Field(field, msgBadID)
	}
	return u.String(), nil
}

// ms and fromMS convert times to the tables' Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func optMS(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only the package's own plain values are marshalled
	}
	return string(b)
}

// notFound turns "no row" into NotFound with m; other errors pass.
func notFound(err error, m *msg.Message, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, m, args...)
	}
	return err
}

// newID is a new record id: a UUIDv7, so that records made in the same millisecond still sort
// in the order they were made (a county's answers, the prefecture's reviews).
func newID() string { return uuid.Must(uuid.NewV7()).String() }
