package billing

import (
	"context"
	"errors"
	"github.com/cityops/cityops/internal/cache"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Deps are what a Service needs. Store is required; everything else has a default.
type Deps struct {
	Store  *tenants.Store
	Logger *slog.Logger
	// Now is the clock; default the store's.
	Now func() time.Time
	// Gateway is Stripe; nil is offline mode (the ledger and statements work alone).
	Gateway Gateway
	// FlushInterval and BatchSize tune the usage recorder (defaults 200ms and 2000 events).
	FlushInterval time.Duration
	BatchSize     int
	// BufferSize bounds the events waiting for a flush (default 100,000); Record waits when full.
	BufferSize int
	// AfterStripeCall, if set, is called after each successful Stripe call and before its result
	// is recorded; an error stops the outbox worker right there, as a crash would. For fault tests.
	AfterStripeCall func(kind, key string) error
	// Modules and Meters are the plan module codes and meters the registered platform modules add
	// to the built-in ones (Modules, Meters): plans may sell them, usage may be recorded on them.
	Modules, Meters []string
}

// Service is billing: usage, plans, the ledger, statements and the Stripe outbox.
type Service struct {
	store   *tenants.Store
	log     *slog.Logger
	now     func() time.Time
	gw      Gateway
	rec     *recorder
	closeMu sync.Mutex
	closed  bool
	// afterSend is Deps.AfterStripeCall.
	afterSend func(kind, key string) error
	// modules and meters are what plans may switch on and charge for: the built-in lists and what
	// Deps added.
	modules, meters []string
	// active remembers the once-a-period events recorded lately, by idempotency key: monthly
	// active users (RecordActiveUser) and the day's storage sample (RecordStorage).
	active *lru.Cache[string, struct{}]
	// ents caches FindEntitlements for Entitled, by tenant.
	ents *cache.Cache[uuid.UUID, *Entitlements]
}

// entitlementTTL is how long Entitled reuses a tenant's entitlements: the delay before another
// replica sees a plan or module switch made on this one.
const entitlementTTL = 10 * time.Second

// NewService builds the billing service and starts its usage recorder. Close flushes and stops it.
func NewService(d Deps) *Service {
	s := &Service{store: d.Store, log: d.Logger, now: d.Now, gw: d.Gateway, afterSend: d.AfterStripeCall,
		modules: union(Modules, d.Modules), meters: union(Meters, d.Meters),
		ents: cache.New[uuid.UUID, *Entitlements](4096, entitlementTTL)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "billing")
	if s.now == nil {
		s.now = d.Store.Now
	}
	s.active, _ = lru.New[string, struct{}](1 << 16)
	s.rec = newRecorder(s, d.FlushInterval, d.BatchSize, d.BufferSize)
	return s
}

// Online reports whether Stripe is configured.
func (s *Service) Online() bool { return s.gw != nil }

// Close flushes buffered usage and stops the recorder. It is safe to call twice.
func (s *Service) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.rec.close()
}

func (s *Service) postgres() bool { return s.store.Dialect() == dbx.Postgres }

func (s *Service) tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.store.ControlTx(ctx, tenants.Write, fn)
}

func (s *Service) read(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.store.ControlTx(ctx, tenants.Read, fn)
}

// utc returns t in UTC truncated to microseconds, the form both dialects store and compare.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

var errClosed = errors.New("billing: service closed")

// checkText refuses text that no database stores as given: invalid UTF-8, NUL and the other
// control characters (tab and line breaks aside), and text longer than max characters.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return errs.Field(field, msgNotValidUtfText, field)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return errs.Field(field, msgContainsControlCharacter, field)
		}
	}
	if utf8.RuneCountInString(s) > max {
		return errs.Field(field, msgLongerThanCharacters, field, max)
	}
	return nil
}

// union returns base followed by the elements of more not already in it.
func union(base, more []string) []string {
	out := slices.Clone(base)
	for _, m := range more {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// Modules returns every module code a plan may switch on, in display order.
func (s *Service) Modules() []string { return slices.Clone(s.modules) }

// Meters returns every meter usage may be recorded on, in display order.
func (s *Service) Meters() []string { return slices.Clone(s.meters) }
