package exchange

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Gate is the tenant gate and the audit log (tenants.Store satisfies it).
type Gate interface {
	Tx(ctx context.Context, mode tenants.Mode, fn func(ctx context.Context, db bun.IDB) error) error
	AuditTenant(ctx context.Context, action, target string, detail any) error
}

// Credentials is the part of the secret store the exchange uses: each destination's credential,
// written by its admin and read by the delivery only (secrets.Store satisfies it).
type Credentials interface {
	PutCredential(ctx context.Context, tenant uuid.UUID, name, value, setBy string) (secrets.Credential, error)
	ListCredentials(ctx context.Context, tenant uuid.UUID) ([]secrets.Credential, error)
	Credential(ctx context.Context, tenant uuid.UUID, name string) (secrets.Secret, error)
	DeleteCredential(ctx context.Context, tenant uuid.UUID, name string) error
}

// Item kinds: what an outbox row carries.
const (
	KindCaseEvent  = "case_event" // one event of a case's history, with the case
	KindGrid       = "grid"       // a grid as it stands (or its removal)
	KindComponent  = "component"  // a component as it stands (or its removal)
	KindIndicators = "indicators" // a month's indicators
)

// Config is what a Service is built from.
type Config struct {
	Gate        Gate
	Credentials Credentials
	// Indicators gives the monthly figures that go up (nil: no indicators are sent).
	Indicators Indicators
	// Adapter delivers the batches (nil: HTTPAdapter with its own client).
	Adapter Adapter
	// Profiles are the payload profiles destinations may name, by name (nil: ProfileV1 and
	// ProfileHotline).
	Profiles map[string]Profile
	// Retry is the policy of one item the receiver refused for now: a claim is leased for
	// Retry.Lease, refused items back off and are dead after Retry.MaxAttempts refusals. Its
	// zero value is DefaultRetry.
	Retry outbox.Policy
	// Pause is the backoff of a destination whose whole batch failed (the receiver down,
	// timing out, answering 5xx): its items wait without counting against them. Zero:
	// DefaultPause.
	Pause outbox.Policy
	Now   func() time.Time
	Log   *slog.Logger
}

// DefaultRetry: a claim is leased for two minutes; an item the receiver asked to be sent again
// waits 2 s, 4 s, … up to 10 minutes and is dead after 12 refusals (about an hour of them).
var DefaultRetry = outbox.Policy{Lease: 2 * time.Minute, MaxAttempts: 12, Base: 2 * time.Second, MaxBackoff: 10 * time.Minute}

// DefaultPause: a destination that failed pauses 1 s, 2 s, … up to 5 minutes, then probes every
// five minutes for as long as the outage lasts; nothing dies of an outage.
var DefaultPause = outbox.Policy{Base: time.Second, MaxBackoff: 5 * time.Minute}

// Service keeps a tenant's destinations, its outbox and the delivery log, and delivers.
type Service struct {
	gate     Gate
	creds    Credentials
	adapter  Adapter
	profiles map[string]Profile
	retry    outbox.Policy
	pause    outbox.Policy
	now      func() time.Time
	log      *slog.Logger
	// indicators: monthly indicators are queued (Config.Indicators was given).
	indicators bool
}

// NewService returns a Service built from cfg.
func NewService(cfg Config) *Service {
	s := &Service{gate: cfg.Gate, creds: cfg.Credentials, adapter: cfg.Adapter, profiles: cfg.Profiles,
		retry: cfg.Retry, pause: cfg.Pause, now: cfg.Now, log: cfg.Log, indicators: cfg.Indicators != nil}
	if s.now == nil {
		s.now = clock.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.adapter == nil {
		s.adapter = NewHTTPAdapter(nil)
	}
	if s.profiles == nil {
		s.profiles = map[string]Profile{ProfileV1: NewProfileV1(cfg.Gate, cfg.Indicators), ProfileHotline: NewHotlineProfile(cfg.Gate)}
	}
	if s.retry == (outbox.Policy{}) {
		s.retry = DefaultRetry
	}
	if s.retry.Lease <= 0 {
		s.retry.Lease = DefaultRetry.Lease
	}
	if s.pause == (outbox.Policy{}) {
		s.pause = DefaultPause
	}
	return s
}

// Destination is where a tenant's changes go: the provincial platform (and the nation through
// it), or another system. Its credential lives in the secret store under CredentialName and is
// never returned; Credential is its masked description.
type Destination struct {
	bun.BaseModel `bun:"table:exchange_destinations"`

	ID          string `bun:"id,pk" json:"id"`
	Code        string `bun:"code" json:"code"`
	Name        string `bun:"name" json:"name"`
	URL         string `bun:"url" json:"url"`
	Profile     string `bun:"profile" json:"profile"`
	Enabled     bool   `bun:"enabled" json:"enabled"`
	BatchSize   int    `bun:"batch_size" json:"batch_size"`
	Concurrency int    `bun:"concurrency" json:"concurrency"`
	TimeoutMS   int    `bun:"timeout_ms" json:"timeout_ms"`
	// IndicatorsThrough is the last month whose indicators were queued.
	IndicatorsThrough string `bun:"indicators_through" json:"indicators_through,omitempty"`
	// Failures counts the whole batches that failed in a row (receiver down, timing out, 5xx);
	// PausedUntil is when the next is tried (ms since the epoch).
	Failures       int        `bun:"failures" json:"consecutive_failures"`
	PausedUntil    int64      `bun:"paused_until" json:"-"`
	DeliveredTotal int64      `bun:"delivered_total" json:"delivered_total"`
	LastAttemptAt  *time.Time `bun:"last_attempt_at" json:"last_attempt_at"`
	LastSuccessAt  *time.Time `bun:"last_success_at" json:"last_delivery_at"`
	LastStatus     int        `bun:"last_status" json:"last_status"`
	LastError      string     `bun:"last_error" json:"last_error"`
	CreatedAt      time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt      time.Time  `bun:"updated_at" json:"updated_at"`

	// Backlog is what the destination is owed (FindDestinations fills it).
	Backlog *Backlog `bun:"-" json:"backlog,omitempty"`
	// Credential describes the destination's credential, masked; nil when it has none.
	Credential *secrets.Credential `bun:"-" json:"credential"`
}

// Backlog is a destination's outbox in figures.
type Backlog struct {
	// Pending changes are owed; Retrying of them were refused by the receiver at least once;
	// Dead were given up on and wait for an operator (RetryDead).
	Pending  int64 `json:"pending"`
	Retrying int64 `json:"retrying"`
	Dead     int64 `json:"dead"`
	// Oldest is when the oldest change owed was made.
	Oldest *time.Time `json:"oldest_pending_at"`
	// PausedUntil is set while the destination waits after failures.
	PausedUntil *time.Time `json:"paused_until,omitempty"`
}

// CredentialName is the name of the destination's credential in the secret store.
func (d *Destination) CredentialName() string { return CredentialName(d.Code) }

// CredentialName is the secret store's name of the credential of the destination code:
// "exchange_<code>" (so `cityops credentials set SLUG exchange_<code>` sets it too).
func CredentialName(code string) string { return "exchange_" + code }

// Health says in a word how the destination is doing: "disabled", "failing" (its last batch
// failed), "dead" (items wait for an operator), "behind" (something is owed), "ok".
func (d *Destination) Health() string {
	switch {
	case !d.Enabled:
		return "disabled"
	case d.Failures > 0:
		return "failing"
	case d.Backlog != nil && d.Backlog.Dead > 0:
		return "dead"
	case d.Backlog != nil && d.Backlog.Pending > 0:
		return "behind"
	}
	return "ok"
}

// DestinationInput sets a destination (PutDestination): its address and profile, whether it
// is on, and how it is sent to. Absent fields keep their value (or take the default when the
// destination is new). Token, when present, replaces the destination's credential in the secret
// store; an empty token removes it.
type DestinationInput struct {
	Name        *string `json:"name,omitempty"`
	URL         string  `json:"url"`
	Profile     *string `json:"profile,omitempty"`
	Enabled     *bool   `json:"enabled,omitempty"`
	BatchSize   *int    `json:"batch_size,omitempty"`
	Concurrency *int    `json:"concurrency,omitempty"`
	TimeoutMS   *int    `json:"timeout_ms,omitempty"`
	Token       *string `json:"token,omitempty"`
}

// Limits of a destination's settings.
const (
	DefaultBatchSize   = 200
	MaxBatchSize       = 1000
	DefaultConcurrency = 2
	MaxConcurrency     = 8
	DefaultTimeoutMS   = 30_000
	MinTimeoutMS       = 100
	MaxTimeoutMS       = 120_000
	maxURL             = 2000
	maxName            = 100
)

var codeRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{1,31}$`)

// ValidCode checks a destination code: 2–32 lower-case letters, digits, '-' and '_', starting
// with a letter.
func ValidCode(code string) error {
	if !codeRe.MatchString(code) {
		return errs.Field("code", msgCode, textutil.Truncate(code, 40))
	}
	return nil
}

// checkText refuses control characters (NUL among them) in a text a person typed.
func checkText(field, v string, n int) error {
	if len([]rune(v)) > n {
		return errs.Field(field, msgTooLong, field, n)
	}
	if strings.ContainsFunc(v, unicode.IsControl) {
		return errs.Field(field, msgControl, field)
	}
	return nil
}

// checkURL admits an absolute http or https URL without user information (the credential goes
// to the secret store, not into the address).
func checkURL(raw string) error {
	if raw == "" {
		return errs.Field("url", msgURLRequired)
	}
	if err := checkText("url", raw, maxURL); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return errs.Field("url", msgURL, textutil.Truncate(raw, 80))
	}
	if u.User != nil {
		return errs.Field("url", msgURLUser)
	}
	return nil
}

func inRange(field string, v *int, lo, hi, def int, current int) (int, error) {
	switch {
	case v == nil && current > 0:
		return current, nil
	case v == nil:
		return def, nil
	case *v < lo || *v > hi:
		return 0, errs.Field(field, msgRange, field, lo, hi)
	}
	return *v, nil
}

// scope is the tenant scope of ctx, or an internal error.
func scope(ctx context.Context) (*tenants.Scope, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoTenantScope)
	}
	return sc, nil
}

func actorOf(ctx context.Context) string {
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		return p.Identity.Email
	}
	return "system"
}

// PutDestination creates the tenant's destination code or changes it (tenant admin; audited
// "exchange.destination"). A new destination starts empty: what changes from now on is queued
// for it, and Replay queues the past.
func (s *Service) PutDestination(ctx context.Context, code string, in DestinationInput) (*Destination, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if err := ValidCode(code); err != nil {
		return nil, err
	}
	if err := checkURL(in.URL); err != nil {
		return nil, err
	}
	if in.Name != nil {
		if err := checkText("name", *in.Name, maxName); err != nil {
			return nil, err
		}
	}
	if in.Profile != nil {
		if _, ok := s.profiles[*in.Profile]; !ok {
			return nil, errs.Field("profile", msgProfile, textutil.Truncate(*in.Profile, 40), ProfileV1+", "+ProfileHotline)
		}
	}
	if in.Token != nil {
		if len(*in.Token) > secrets.MaxCredential {
			return nil, errs.Field("token", msgTooLong, "token", secrets.MaxCredential)
		}
		if strings.ContainsFunc(*in.Token, unicode.IsControl) {
			return nil, errs.Field("token", msgControl, "token")
		}
	}
	// The credential first: a destination is never left pointing at a credential its admin
	// meant to replace.
	if in.Token != nil {
		if *in.Token == "" {
			if err := s.creds.DeleteCredential(ctx, sc.Tenant.ID, CredentialName(code)); err != nil && !errs.Is(err, errs.NotFound) {
				return nil, err
			}
		} else if _, err := s.creds.PutCredential(ctx, sc.Tenant.ID, CredentialName(code), *in.Token, actorOf(ctx)); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	var out *Destination
	created := false
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := findDestination(ctx, db, code)
		if errs.Is(err, errs.NotFound) {
			created = true
			month := clock.StartOfMonth(now.In(clock.China)).AddDate(0, -2, 0)
			d = &Destination{ID: uuid.NewString(), Code: code, Profile: ProfileV1, Enabled: true, CreatedAt: now,
				IndicatorsThrough: month.Format("2006-01")}
		} else if err != nil {
			return err
		}
		d.URL = strings.Clone(in.URL)
		if in.Name != nil {
			d.Name = strings.TrimSpace(*in.Name)
		}
		if in.Profile != nil {
			d.Profile = *in.Profile
		}
		if in.Enabled != nil {
			d.Enabled = *in.Enabled
		}
		if d.BatchSize, err = inRange("batch_size", in.BatchSize, 1, MaxBatchSize, DefaultBatchSize, d.BatchSize); err != nil {
			return err
		}
		if d.Concurrency, err = inRange("concurrency", in.Concurrency, 1, MaxConcurrency, DefaultConcurrency, d.Concurrency); err != nil {
			return err
		}
		if d.TimeoutMS, err = inRange("timeout_ms", in.TimeoutMS, MinTimeoutMS, MaxTimeoutMS, DefaultTimeoutMS, d.TimeoutMS); err != nil {
			return err
		}
		d.UpdatedAt = now
		if created {
			_, err = db.NewInsert().Model(d).Exec(ctx)
		} else {
			// A changed address or a re-enabled destination is tried at once.
			d.Failures, d.PausedUntil = 0, 0
			_, err = db.NewUpdate().Model(d).Column("url", "name", "profile", "enabled", "batch_size", "concurrency", "timeout_ms",
				"failures", "paused_until", "updated_at").WherePK().Exec(ctx)
		}
		out = d
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"code": out.Code, "url": out.URL, "profile": out.Profile, "enabled": out.Enabled,
		"batch_size": out.BatchSize, "concurrency": out.Concurrency, "timeout_ms": out.TimeoutMS, "created": created}
	if in.Token != nil {
		detail["credential"] = map[bool]string{true: "removed", false: "set"}[*in.Token == ""]
	}
	if err := s.gate.AuditTenant(ctx, "exchange.destination", out.Code, detail); err != nil {
		return nil, err
	}
	return s.FindDestinationByCode(ctx, code)
}

// DeleteDestination removes the destination with everything still owed to it and its log, and
// its credential (tenant admin; audited "exchange.destination.delete").
func (s *Service) DeleteDestination(ctx context.Context, code string) error {
	sc, err := scope(ctx)
	if err != nil {
		return err
	}
	var d *Destination
	var pending int64
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if db.Dialect().Name() == dialect.PG {
			// Every transaction adding outbox rows read the destinations (the triggers do): the
			// lock waits for those in flight to end and holds new ones until the destination is
			// gone, so none adds a row for it afterwards. (SQLite has one writer.) It is not
			// waited for long: the case loop's writes queue behind it (a conflict: try again).
			if _, err := db.NewRaw("SET LOCAL lock_timeout = '2s'; LOCK TABLE exchange_destinations IN ACCESS EXCLUSIVE MODE").Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
		}
		if d, err = findDestination(ctx, db, code); err != nil {
			return err
		}
		if err := db.NewRaw("SELECT count(*) FROM exchange_outbox WHERE destination_id = ?", d.ID).Scan(ctx, &pending); err != nil {
			return err
		}
		// The log goes with the destination (its foreign key cascades).
		_, err := db.NewRaw("DELETE FROM exchange_destinations WHERE id = ?", d.ID).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return err
	}
	// What it was owed goes after the lock is released: the case loop waits for nothing big. Rows
	// of destinations gone before (a crash here) go too.
	if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewRaw("DELETE FROM exchange_outbox WHERE destination_id NOT IN (SELECT id FROM exchange_destinations)").Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return err
	}
	if err := s.creds.DeleteCredential(ctx, sc.Tenant.ID, CredentialName(code)); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	return s.gate.AuditTenant(ctx, "exchange.destination.delete", code, map[string]any{"code": code, "discarded": pending})
}

func findDestination(ctx context.Context, db bun.IDB, code string) (*Destination, error) {
	if ValidCode(code) != nil {
		return nil, errs.E(errs.NotFound, msgNoDestination, textutil.Truncate(code, 40))
	}
	var d Destination
	err := db.NewSelect().Model(&d).Where("code = ?", code).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, msgNoDestination, code)
	}
	return &d, dbx.Translate(err)
}

// FindDestinations lists the tenant's destinations by code, each with its backlog and its
// credential's masked description.
func (s *Service) FindDestinations(ctx context.Context) ([]*Destination, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Destination{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&out).OrderExpr("code").Scan(ctx); err != nil {
			return err
		}
		return s.fillBacklogs(ctx, db, out)
	})
	if err != nil || len(out) == 0 {
		return out, err
	}
	s.fillCredentials(ctx, sc.Tenant.ID, out)
	return out, nil
}

// FindDestinationByCode is one destination with its backlog and credential description.
func (s *Service) FindDestinationByCode(ctx context.Context, code string) (*Destination, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	var d *Destination
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if d, err = findDestination(ctx, db, code); err != nil {
			return err
		}
		return s.fillBacklogs(ctx, db, []*Destination{d})
	})
	if err != nil {
		return nil, err
	}
	s.fillCredentials(ctx, sc.Tenant.ID, []*Destination{d})
	return d, nil
}

// fillCredentials describes each destination's credential. The store being down hides the
// descriptions, not the destinations.
func (s *Service) fillCredentials(ctx context.Context, tenant uuid.UUID, ds []*Destination) {
	creds, err := s.creds.ListCredentials(ctx, tenant)
	if err != nil {
		s.log.Warn("exchange: listing credentials", "err", err)
		return
	}
	for _, d := range ds {
		for i := range creds {
			if creds[i].Name == d.CredentialName() {
				c := creds[i]
				d.Credential = &c
			}
		}
	}
}

type backlogRow struct {
	DestinationID string     `bun:"destination_id"`
	Pending       int64      `bun:"pending"`
	Retrying      int64      `bun:"retrying"`
	Dead          int64      `bun:"dead"`
	Oldest        *time.Time `bun:"oldest"`
}

func (s *Service) fillBacklogs(ctx context.Context, db bun.IDB, ds []*Destination) error {
	var rows []backlogRow
	if err := db.NewRaw(`SELECT destination_id,
		COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending,
		COALESCE(SUM(CASE WHEN status = 'pending' AND failures > 0 THEN 1 ELSE 0 END), 0) AS retrying,
		COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead,
		MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest
		FROM exchange_outbox GROUP BY destination_id`).Scan(ctx, &rows); err != nil {
		return err
	}
	by := map[string]backlogRow{}
	for _, r := range rows {
		by[r.DestinationID] = r
	}
	now := s.now()
	for _, d := range ds {
		r := by[d.ID]
		d.Backlog = &Backlog{Pending: r.Pending, Retrying: r.Retrying, Dead: r.Dead, Oldest: r.Oldest}
		if d.PausedUntil > now.UnixMilli() {
			t := time.UnixMilli(d.PausedUntil).UTC()
			d.Backlog.PausedUntil = &t
		}
	}
	return nil
}

// LogEntry is one batch of the delivery log: when, how many items, what became of them, the
// receiver's status code (0 when it was not reached), how long it took and what went wrong.
type LogEntry struct {
	bun.BaseModel `bun:"table:exchange_log"`

	ID            int64     `bun:"id,pk,autoincrement" json:"id"`
	DestinationID string    `bun:"destination_id" json:"-"`
	At            time.Time `bun:"at" json:"at"`
	BatchID       string    `bun:"batch_id" json:"batch_id"`
	Items         int       `bun:"items" json:"items"`
	Delivered     int       `bun:"delivered" json:"delivered"`
	Duplicates    int       `bun:"duplicates" json:"duplicates"`
	Retried       int       `bun:"retried" json:"retried"`
	Rejected      int       `bun:"rejected" json:"rejected"`
	HTTPStatus    int       `bun:"http_status" json:"http_status"`
	LatencyMS     int       `bun:"latency_ms" json:"latency_ms"`
	Error         string    `bun:"error" json:"error"`
}

// FindLog is the newest limit entries (at most 500) of the destination's delivery log, newest
// first; before (an entry id) pages back.
func (s *Service) FindLog(ctx context.Context, code string, before int64, limit int) ([]LogEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out := []LogEntry{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		d, err := findDestination(ctx, db, code)
		if err != nil {
			return err
		}
		q := db.NewSelect().Model(&out).Where("destination_id = ?", d.ID).OrderExpr("id DESC").Limit(int64(limit))
		if before > 0 {
			q = q.Where("id < ?", before)
		}
		return q.Scan(ctx)
	})
	return out, err
}

// Entry is one row of a destination's outbox: a change owed (pending) or given up on (dead).
type Entry struct {
	bun.BaseModel `bun:"table:exchange_outbox"`

	ID          int64     `bun:"id,pk,autoincrement" json:"id"`
	Kind        string    `bun:"kind" json:"kind"`
	Subject     string    `bun:"subject" json:"subject"`
	Seq         int64     `bun:"seq" json:"seq"`
	Ref         string    `bun:"ref" json:"ref"`
	Status      string    `bun:"status" json:"status"`
	Attempts    int       `bun:"attempts" json:"attempts"`
	Failures    int       `bun:"failures" json:"failures"`
	NextAttempt int64     `bun:"next_attempt_at" json:"-"`
	LastStatus  int       `bun:"last_status" json:"last_status"`
	LastError   string    `bun:"last_error" json:"last_error"`
	CreatedAt   time.Time `bun:"created_at" json:"created_at"`
}

// FindEntries lists the destination's outbox rows of status ("dead", "pending" or "failing":
// pending rows the receiver refused at least once), oldest first, at most limit (≤ 500).
func (s *Service) FindEntries(ctx context.Context, code, status string, limit int) ([]Entry, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where := ""
	switch status {
	case "", outbox.Dead:
		where = "status = 'dead'"
	case outbox.Pending:
		where = "status = 'pending'"
	case "failing":
		where = "status = 'pending' AND (failures > 0 OR last_error <> '')"
	default:
		return nil, errs.Field("status", msgEntryStatus, textutil.Truncate(status, 20))
	}
	out := []Entry{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		d, err := findDestination(ctx, db, code)
		if err != nil {
			return err
		}
		return db.NewSelect().Model(&out).Where("destination_id = ?", d.ID).Where(where).OrderExpr("id").Limit(int64(limit)).Scan(ctx)
	})
	return out, err
}

// RetryDead puts the destination's dead items (those of ids, or all when ids is empty) back in
// the queue with their refusals forgotten (tenant admin; audited "exchange.retry"). It returns
// how many.
func (s *Service) RetryDead(ctx context.Context, code string, ids []int64) (int64, error) {
	if len(ids) > 1000 {
		return 0, errs.Field("ids", msgTooMany, 1000)
	}
	var n int64
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := findDestination(ctx, db, code)
		if err != nil {
			return err
		}
		q := db.NewUpdate().Table("exchange_outbox").Set("status = 'pending'").Set("failures = 0").Set("next_attempt_at = 0").Set("leased_until = 0").
			Where("destination_id = ? AND status = 'dead'", d.ID)
		if len(ids) > 0 {
			q = q.Where("id IN (?)", bun.List(ids))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return dbx.Translate(err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, s.gate.AuditTenant(ctx, "exchange.retry", code, map[string]any{"code": code, "ids": ids, "items": n})
}
