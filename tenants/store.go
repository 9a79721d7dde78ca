package tenants

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/migrations"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/uptrace/bun"
)

// Config says where the control plane and the tenants live.
type Config struct {
	// DatabaseURL selects PostgreSQL; empty means SQLite files under DataDir.
	DatabaseURL string
	DataDir     string
	// RolePrefix starts every database role the store creates (roles are cluster-wide, so two
	// deployments on one server need different prefixes). Default "cityops".
	RolePrefix string
	Pool       dbx.PoolOptions
	// MaxOpenTenants bounds the SQLite tenant files kept open at once. Default 64.
	MaxOpenTenants int
	Logger         *slog.Logger
	Now            func() time.Time
	// Passwords sets the argon2id costs; zero means DefaultPasswordParams.
	Passwords PasswordParams
	// Clusters are the PostgreSQL clusters besides the main one (DatabaseURL) that hold tenant
	// schemas, and the capacities of all (clusters.go). Empty: every tenant on the main cluster.
	Clusters []Cluster
	// Migrations are tenant migrations the platform's modules add (migrations.LoadFS), applied
	// after the tenant set, in order.
	Migrations []migrations.Migration
}

// Mode says whether a transaction may write.
type Mode int

// The modes of the gate.
const (
	Read Mode = iota
	Write
)

// Store owns the control database and the gate to every tenant's data.
type Store struct {
	dialect    dbx.Dialect
	db         *bun.DB // PostgreSQL: the one pool. SQLite: the control writer.
	reader     *bun.DB // SQLite: control readers. PostgreSQL: same as db.
	sqlite     *dbx.SQLiteHandle
	dataDir    string
	rolePrefix string
	log        *slog.Logger
	now        func() time.Time
	handles    *handleCache
	passwords  PasswordParams
	// tenantSet is the tenant migration set, loaded once at Open.
	tenantSet []migrations.Migration
	// exportFiles add files kept outside the database to exports (AddExportFiles).
	exportFiles []ExportFiles
	// exportSealed name the columns of personal data under the tenant's key (AddExportSealed).
	exportSealed []ExportSealed
	// principals caches token and session lookups for PrincipalCacheTTL (auth_cache.go).
	principals principalCache
	// tenants caches slug → tenant and ancestors for TenantCacheTTL (registry_cache.go).
	tenants tenantCache
	// logins counts failed logins to slow down password guessing (login_throttle.go).
	logins *LoginThrottle
	// databaseURL is where the PostgreSQL control plane is, for the programs a restore runs
	// (pg_restore; restore.go).
	databaseURL string
	// pools are the other clusters' pools by name, urls their URLs (for pg_dump), capacity
	// every cluster's capacity (clusters.go).
	pools    map[string]*bun.DB
	urls     map[string]string
	capacity map[string]int
}

// Open opens the control database for cfg. It does not migrate; call Migrate.
func Open(cfg Config) (*Store, error) {
	s := &Store{dataDir: cfg.DataDir, rolePrefix: cfg.RolePrefix, log: cfg.Logger, now: cfg.Now, logins: NewLoginThrottle()}
	if s.rolePrefix == "" {
		s.rolePrefix = "cityops"
	}
	if !dbx.ValidIdent(s.rolePrefix) || len(s.rolePrefix) > 30 {
		return nil, errs.Field("role_prefix", msgRolePrefixMustLowerCase, s.rolePrefix)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "tenants")
	if s.now == nil {
		s.now = clock.Now
	}
	s.passwords = cfg.Passwords
	if s.passwords.Memory == 0 {
		s.passwords = DefaultPasswordParams
	}
	var err error
	if s.tenantSet, err = migrations.Load(migrations.Tenant, dialectOf(cfg)); err != nil {
		return nil, err
	}
	s.tenantSet = append(s.tenantSet, cfg.Migrations...)
	if cfg.DatabaseURL != "" {
		db, err := dbx.OpenPostgres(cfg.DatabaseURL, cfg.Pool)
		if err != nil {
			return nil, err
		}
		s.dialect, s.db, s.reader, s.databaseURL = dbx.Postgres, db, db, cfg.DatabaseURL
		s.pools, s.urls, s.capacity = map[string]*bun.DB{}, map[string]string{MainCluster: cfg.DatabaseURL}, map[string]int{}
		for _, c := range cfg.Clusters {
			s.capacity[c.Name] = c.Capacity
			if c.Name == MainCluster {
				continue
			}
			if !clusterNameRe.MatchString(c.Name) || c.URL == "" {
				s.Close()
				return nil, fmt.Errorf("cluster %q: a name of lower case letters, digits and _, and a URL", c.Name)
			}
			pool, err := dbx.OpenPostgres(c.URL, cfg.Pool)
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
			}
			s.pools[c.Name], s.urls[c.Name] = pool, c.URL
		}
		return s, nil
	}
	for _, c := range cfg.Clusters {
		if c.Name != MainCluster {
			return nil, fmt.Errorf("cluster %s: tenants on several clusters need PostgreSQL (CITYOPS_DATABASE_URL)", c.Name)
		}
	}
	if s.dataDir == "" {
		s.dataDir = "data"
	}
	if err := os.MkdirAll(filepath.Join(s.dataDir, "tenants"), 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	h, err := dbx.OpenSQLite("", []dbx.Attach{
		{Schema: "control", Path: filepath.Join(s.dataDir, "control.db")},
		{Schema: "ref", Path: filepath.Join(s.dataDir, "ref.db")},
	}, 1)
	if err != nil {
		return nil, err
	}
	s.dialect, s.sqlite, s.db, s.reader = dbx.SQLite, h, h.Writer, h.Reader
	max := cfg.MaxOpenTenants
	if max <= 0 {
		max = 64
	}
	s.handles = newHandleCache(max, s.refPath())
	return s, nil
}

func dialectOf(cfg Config) string {
	if cfg.DatabaseURL != "" {
		return string(dbx.Postgres)
	}
	return string(dbx.SQLite)
}

// Close closes every handle the store holds.
func (s *Store) Close() error {
	var err error
	if s.handles != nil {
		err = s.handles.closeAll()
	}
	if s.sqlite != nil {
		return errors.Join(err, s.sqlite.Close())
	}
	for _, p := range s.pools {
		err = errors.Join(err, p.Close())
	}
	return errors.Join(err, s.db.Close())
}

// Dialect returns the dialect the store runs on.
func (s *Store) Dialect() dbx.Dialect { return s.dialect }

// DB returns the control database for queries that span the control plane. Tenant data is never
// reached through it.
func (s *Store) DB() *bun.DB { return s.db }

// Now returns the store's clock reading.
func (s *Store) Now() time.Time { return s.now() }

// Ping checks that the control database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) refPath() string { return filepath.Join(s.dataDir, "ref.db") }

func (s *Store) tenantPath(t *Tenant) string {
	return filepath.Join(s.dataDir, "tenants", t.SchemaName+".db")
}

// ControlTx runs fn in one transaction on the control database.
func (s *Store) ControlTx(ctx context.Context, mode Mode, fn func(ctx context.Context, tx bun.Tx) error) error {
	db := s.db
	opts := &sql.TxOptions{}
	if mode == Read {
		db = s.reader
		opts.ReadOnly = s.dialect == dbx.Postgres
	}
	return dbx.Translate(db.RunInTx(ctx, opts, fn))
}

// MigrateControl applies the control set (control and ref schemas).
func (s *Store) MigrateControl(ctx context.Context) ([]string, error) {
	ms, err := migrations.Load(migrations.Control, string(s.dialect))
	if err != nil {
		return nil, err
	}
	var applied []string
	err = s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if s.dialect == dbx.Postgres {
			if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS control; SELECT pg_advisory_xact_lock(7031)"); err != nil {
				return err
			}
		}
		applied, err = migrations.Apply(ctx, tx, "control.schema_migrations", ms, s.now())
		return err
	})
	if err == nil && s.dialect == dbx.Postgres {
		err = s.migrateClusters(ctx, ms)
	}
	return applied, err
}

// Tx is the one gate to tenant data. It takes the tenant and the caller's access from the Scope in
// ctx and fails closed without one; a write through a read-only scope, or to a tenant that is not
// active, is refused before any SQL runs.
func (s *Store) Tx(ctx context.Context, mode Mode, fn func(ctx context.Context, db bun.IDB) error) error {
	t, mode, err := Admit(ctx, mode)
	if err != nil {
		return err
	}
	return s.tenantTx(ctx, t, mode, fn)
}

// Admit checks the scope in ctx for a transaction in mode, as Tx does before any SQL, and
// returns its tenant and the mode to open (a read-only scope always reads).
func Admit(ctx context.Context, mode Mode) (*Tenant, Mode, error) {
	sc := ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, mode, errs.E(errs.Internal, msgTenantGateUsedWithoutTenant)
	}
	t := sc.Tenant
	switch t.Status {
	case StatusActive:
	case StatusSuspended:
		if mode == Write {
			return nil, mode, errs.E(errs.Forbidden, msgTenantSuspendedDataCanRead, t.Slug)
		}
	case StatusProvisioning:
		return nil, mode, errs.E(errs.Unavailable, msgTenantStillBeingProvisioned, t.Slug)
	default:
		return nil, mode, errs.E(errs.NotFound, msgNoTenant2, t.Slug)
	}
	if mode == Write && sc.ReadOnly {
		return nil, mode, errs.E(errs.Forbidden, msgYourAccessReadOnly, t.Slug)
	}
	if mode == Write && t.WriteFreeze != "" {
		e := errs.E(errs.Unavailable, msgTenantWritesFrozen, t.Slug)
		e.RetryAfter = FreezeRetryAfter
		return nil, mode, e
	}
	if sc.ReadOnly {
		mode = Read
	}
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) {
		return nil, mode, errs.E(errs.Internal, msgTenantHasInvalidSchemaRole, t.ID)
	}
	return t, mode, nil
}

// Part is one tenant's share of a transaction that TxEach runs.
type Part struct {
	// Ctx carries the part's scope (ScopeFrom), as for Tx; it is passed to Fn without its
	// cancellation, since the part shares its fate with the others.
	Ctx context.Context
	Fn  func(ctx context.Context, db bun.IDB) error
}

// CanGroup reports whether TxEach is available: on PostgreSQL, where tenants are schemas of one
// database; not on SQLite, where each tenant is a file of its own.
func (s *Store) CanGroup() bool { return s.dialect == dbx.Postgres }

// TxEach runs the parts' writes in one transaction, each part as its own tenant exactly as Tx
// would run it: its scope admitted for writing, then the tenant's search path and role set
// before its Fn runs, so each part sees and touches only its tenant's schema, whatever the parts
// before it did. The parts commit together or not at all: the error names the first that
// failed. It is the group commit of small independent writes (case reports arriving together
// share one commit); callers retry the parts of a failed group one by one through Tx, so that
// one bad part does not fail the others.
func (s *Store) TxEach(ctx context.Context, parts []Part) error {
	if !s.CanGroup() {
		return errs.E(errs.Internal, msgTxeachNeedsPostgresql)
	}
	ts := make([]*Tenant, len(parts))
	for i, p := range parts {
		t, mode, err := Admit(p.Ctx, Write)
		if err != nil {
			return err
		}
		if mode != Write {
			return errs.E(errs.Forbidden, msgYourAccessReadOnly, t.Slug)
		}
		ts[i] = t
	}
	// Tenants in the order of their ids: concurrent groups take their tenants' row locks in one
	// order, so they wait for each other instead of deadlocking. A tenant's parts keep theirs.
	order := make([]int, len(parts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return bytes.Compare(ts[a].ID[:], ts[b].ID[:]) })
	// One transaction reaches one cluster: parts on several are refused, and the caller runs
	// them one by one.
	for _, t := range ts[1:] {
		if t.Cluster != ts[0].Cluster {
			return errs.E(errs.Conflict, msgTxEachOneCluster)
		}
	}
	db := s.db
	if len(ts) > 0 {
		var err error
		if db, err = s.poolOf(ts[0]); err != nil {
			return err
		}
	}
	err := db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		var in *Tenant
		for _, i := range order {
			p := parts[i]
			if t := ts[i]; in == nil || t.ID != in.ID {
				setup := "SET LOCAL search_path TO " + dbx.QuoteIdent(t.SchemaName) + ", ref; SET LOCAL ROLE " + dbx.QuoteIdent(t.DBRole)
				if _, err := tx.ExecContext(ctx, setup); err != nil {
					return fmt.Errorf("enter tenant %s: %w", t.Slug, err)
				}
				in = t
			}
			if err := p.Fn(context.WithoutCancel(p.Ctx), tx); err != nil {
				return err
			}
		}
		return nil
	})
	return dbx.Translate(err)
}

// tenantTx opens the tenant's transaction without status checks: provisioning, migration and
// export use it on tenants that are not (or no longer) active.
func (s *Store) tenantTx(ctx context.Context, t *Tenant, mode Mode, fn func(ctx context.Context, db bun.IDB) error) error {
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) {
		return errs.E(errs.Internal, msgTenantHasInvalidSchemaRole, t.ID)
	}
	if s.dialect == dbx.Postgres {
		role := t.DBRole
		if mode == Read {
			role = t.ReadOnlyRole()
		}
		setup := "SET LOCAL search_path TO " + dbx.QuoteIdent(t.SchemaName) + ", ref; SET LOCAL ROLE " + dbx.QuoteIdent(role)
		opts := &sql.TxOptions{}
		if mode == Read {
			// Reads see one snapshot: an export or a dashboard is consistent across its queries.
			opts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
		}
		body := func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, setup); err != nil {
				return fmt.Errorf("enter tenant %s: %w", t.Slug, err)
			}
			return fn(ctx, tx)
		}
		db, err := s.poolOf(t)
		if err != nil {
			return err
		}
		if mode == Read {
			return dbx.Translate(db.RunInTx(ctx, opts, body))
		}
		// A write runs on a connection of its own, which CopyFrom reaches through ctx to load
		// rows with COPY inside the same transaction.
		conn, err := db.Conn(ctx)
		if err != nil {
			return dbx.Translate(err)
		}
		defer conn.Close()
		return dbx.Translate(conn.RunInTx(context.WithValue(ctx, txConnKey{}, conn), opts, body))
	}
	h, release, err := s.handles.acquire(s.tenantPath(t))
	if err != nil {
		return err
	}
	defer release()
	db := h.Writer
	if mode == Read {
		db = h.Reader
	}
	return dbx.Translate(db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return fn(ctx, tx) }))
}

// handleCache keeps a bounded number of SQLite tenant files open. A handle evicted while a
// transaction uses it is closed when that transaction releases it.
type handleCache struct {
	mu      sync.Mutex
	lru     *lru.Cache[string, *handleEntry]
	refPath string
}

type handleEntry struct {
	h       *dbx.SQLiteHandle
	refs    int
	evicted bool
}

func newHandleCache(size int, refPath string) *handleCache {
	c := &handleCache{refPath: refPath}
	c.lru, _ = lru.NewWithEvict(size, func(_ string, e *handleEntry) {
		e.evicted = true
		if e.refs == 0 {
			e.h.Close()
		}
	})
	return c
}

func (c *handleCache) acquire(path string) (*dbx.SQLiteHandle, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.lru.Get(path)
	if !ok {
		h, err := dbx.OpenSQLite(path, []dbx.Attach{{Schema: "ref", Path: c.refPath, ReadOnly: true}}, 4)
		if err != nil {
			return nil, nil, err
		}
		e = &handleEntry{h: h}
		c.lru.Add(path, e)
	}
	e.refs++
	return e.h, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		e.refs--
		if e.evicted && e.refs == 0 {
			e.h.Close()
		}
	}, nil
}

// forget closes and drops the handle of path, if open (before its file is removed).
func (c *handleCache) forget(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(path)
}

func (c *handleCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *handleCache) closeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
	return nil
}

// DatabaseSize is how many bytes t's data takes in the database: on PostgreSQL its schema's
// tables with their indexes and TOAST, on SQLite its file and write-ahead log. It is what the
// storage meter samples (with what the modules keep outside the database).
func (s *Store) DatabaseSize(ctx context.Context, t *Tenant) (int64, error) {
	if s.dialect == dbx.SQLite {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			fi, err := os.Stat(s.tenantPath(t) + suffix)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return 0, err
			}
			n += fi.Size()
		}
		return n, nil
	}
	var n int64
	db, err := s.poolOf(t)
	if err != nil {
		return 0, err
	}
	err = db.NewRaw(`SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
			JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE ns.nspname = ? AND c.relkind IN ('r', 'm', 'p')`, t.SchemaName).Scan(ctx, &n)
	return n, dbx.Translate(err)
}
