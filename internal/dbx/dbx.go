// Package dbx holds the database helpers that know about both dialects: opening PostgreSQL and
// SQLite handles with the settings this project relies on, quoting identifiers, and translating
// driver errors into the errs vocabulary.
package dbx

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names a supported database.
type Dialect string

// The two dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// PoolOptions bounds a PostgreSQL pool. MaxLifetime matters: a backend that touches many tenant
// schemas grows its catalog cache without bound, so connections are recycled.
type PoolOptions struct {
	MaxOpen     int
	MaxIdle     int
	MaxLifetime time.Duration
	MaxIdleTime time.Duration
}

// OpenPostgres opens one pool for the whole deployment. Statements run in pgx's exec mode
// (unnamed statements, one round trip), which stays correct behind PgBouncer in transaction mode.
func OpenPostgres(dsn string, o PoolOptions) (*bun.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(dsn, "default_query_exec_mode") {
		cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	}
	sqldb := stdlib.OpenDB(*cfg)
	if o.MaxOpen <= 0 {
		o.MaxOpen = 20
	}
	if o.MaxIdle <= 0 {
		// Keep every connection idle-able: closing and reopening backends under a burst costs
		// more than holding them (MaxIdleTime still trims a quiet pool).
		o.MaxIdle = o.MaxOpen
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = 15 * time.Minute
	}
	if o.MaxIdleTime <= 0 {
		o.MaxIdleTime = 2 * time.Minute
	}
	sqldb.SetMaxOpenConns(o.MaxOpen)
	sqldb.SetMaxIdleConns(o.MaxIdle)
	sqldb.SetConnMaxLifetime(o.MaxLifetime)
	sqldb.SetConnMaxIdleTime(o.MaxIdleTime)
	return newDB(sqldb, pgdialect.New()), nil
}

// Attach names an extra SQLite database file attached to every connection under a schema name,
// so that SQL written as schema.table reads the same on both dialects.
type Attach struct {
	Schema   string
	Path     string
	ReadOnly bool
}

// SQLiteHandle is a SQLite database opened as one writer connection (immediate transactions, so
// writers queue instead of failing) and a pool of read-only readers.
type SQLiteHandle struct {
	Writer *bun.DB
	Reader *bun.DB
}

// Close closes both pools.
func (h *SQLiteHandle) Close() error {
	return errors.Join(h.Writer.Close(), h.Reader.Close())
}

// OpenSQLite opens path (":memory:" is not supported: readers need a file) as a SQLiteHandle.
// An empty path opens an in-memory main database, useful when everything lives in attachments.
func OpenSQLite(path string, attach []Attach, readers int) (*SQLiteHandle, error) {
	if readers <= 0 {
		readers = 4
	}
	main := "file:" + path
	if path == "" {
		main = "file::memory:"
	}
	const pragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	wdsn := main + "?" + pragmas + "&_txlock=immediate"
	if path != "" {
		wdsn += "&_pragma=journal_mode(WAL)"
	}
	wdrv := &sqlite.Driver{}
	wdrv.RegisterConnectionHook(attachHook(attach, false))
	wsql := sql.OpenDB(connector{drv: wdrv, dsn: wdsn})
	wsql.SetMaxOpenConns(1)
	wsql.SetMaxIdleConns(1)
	wsql.SetConnMaxLifetime(0)
	writer := newDB(wsql, sqlitedialect.New())
	// Open the writer first so the file exists and is in WAL mode before readers open it.
	if err := writer.PingContext(context.Background()); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	rdsn := main + "?" + pragmas + "&_pragma=query_only(1)"
	if path != "" {
		rdsn = "file:" + path + "?mode=ro&" + pragmas
	}
	rdrv := &sqlite.Driver{}
	rdrv.RegisterConnectionHook(attachHook(attach, true))
	rsql := sql.OpenDB(connector{drv: rdrv, dsn: rdsn})
	rsql.SetMaxOpenConns(readers)
	rsql.SetMaxIdleConns(readers)
	reader := newDB(rsql, sqlitedialect.New())
	if path == "" {
		// An in-memory main is private to each connection; readers must go through the writer.
		rsql.Close()
		reader = writer
	}
	return &SQLiteHandle{Writer: writer, Reader: reader}, nil
}

func attachHook(attach []Attach, readOnly bool) sqlite.ConnectionHookFn {
	return func(conn sqlite.ExecQuerierContext, _ string) error {
		ctx := context.Background()
		for _, a := range attach {
			mode := ""
			if a.ReadOnly || readOnly {
				mode = "?mode=ro"
			}
			uri := "file:" + a.Path + mode
			if _, err := conn.ExecContext(ctx, "ATTACH DATABASE '"+strings.ReplaceAll(uri, "'", "''")+"' AS "+QuoteIdent(a.Schema), nil); err != nil {
				return fmt.Errorf("attach %s: %w", a.Schema, err)
			}
			if !a.ReadOnly && !readOnly {
				if _, err := conn.ExecContext(ctx, "PRAGMA "+QuoteIdent(a.Schema)+".journal_mode=WAL", nil); err != nil {
					return fmt.Errorf("wal %s: %w", a.Schema, err)
				}
			}
		}
		return nil
	}
}

type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidIdent reports whether s is a plain lower-case SQL identifier that needs no escaping.
// Schema and role names are built only from validated tenant identifiers and must pass this.
func ValidIdent(s string) bool { return identRe.MatchString(s) }

// QuoteIdent quotes an identifier for either dialect, doubling embedded quotes.
func QuoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// Translate maps driver errors onto the errs vocabulary: unique violations become Conflict,
// read-only violations Forbidden, cancelled contexts Unavailable. Anything else is returned as is.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var coded *errs.Error
	if errors.As(err, &coded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errs.Wrap(err, errs.NotFound, msgNotFound)
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return errs.Wrap(err, errs.Conflict, msgAlreadyExists)
		case "23503", "23514", "23502":
			return errs.Wrap(err, errs.Invalid, msgDataBreaksRuleDatabase)
		case "25006", "42501":
			return errs.Wrap(err, errs.Forbidden, msgAccessReadOnly)
		case "40001", "40P01", "55P03":
			return errs.Wrap(err, errs.Conflict, msgSomeoneElseChangedSameTime)
		case "22P05", "22021":
			// untranslatable_character, character_not_in_repertoire: a NUL escaped inside a
			// JSON value (jsonb refuses \u0000), or text the database encoding cannot hold.
			return errs.Wrap(err, errs.Invalid, msgValueContainsCharacterCannotStored)
		case "57014":
			return errs.Wrap(err, errs.Unavailable, msgDatabaseTookTooLongTry)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return errs.Wrap(err, errs.Conflict, msgAlreadyExists)
			}
			return errs.Wrap(err, errs.Invalid, msgDataBreaksRuleDatabase)
		case sqlite3.SQLITE_READONLY:
			return errs.Wrap(err, errs.Forbidden, msgAccessReadOnly)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return errs.Wrap(err, errs.Unavailable, msgDatabaseBusyTryAgain)
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errs.Wrap(err, errs.Unavailable, msgRequestTookTooLongTry)
	}
	return err
}
