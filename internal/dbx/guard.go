package dbx

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// ErrUnstorable is the error of a statement that was not sent because one of its values cannot
// be written into SQL text as it is: a string with a NUL byte (PostgreSQL cannot store one, and
// both databases end a statement at NUL) or bytes that are not UTF-8 (which bun would silently
// replace). It is a validation error: the caller sent the value.
var ErrUnstorable = errs.E(errs.Invalid, msgValueContainsNulByteNot)

// bun formats arguments into the statement's text on the client. For a value it cannot write it
// appends "?!(" and the error instead, which the database would answer with a syntax error — a
// 500 that says nothing. guard makes such a statement fail before it is sent, with
// ErrUnstorable, on both dialects: guardedDialect marks strings that are not UTF-8 the same way
// bun marks strings with NUL, and guardHook refuses any statement that carries either mark.
//
// A string a person typed that contains a mark's exact text is refused too: a 400 for an odd
// sentence, never a changed statement.
var unstorableMarks = []string{
	"?!(" + errNotUTF8.Error() + ")",
	"?!(bun: string contains a NUL byte (0x00))", // bun's own, schema.BaseDialect.AppendString
}

var errNotUTF8 = errors.New("cityops: string is not valid UTF-8")

// guardedDialect is bun's dialect with strings that are not UTF-8 refused instead of repaired.
type guardedDialect struct{ schema.Dialect }

func (d guardedDialect) AppendString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return dialect.AppendError(b, errNotUTF8)
	}
	return d.Dialect.AppendString(b, s)
}

// guardHook refuses a statement that carries a mark of an unstorable value. A bun hook cannot
// return an error, so it hands database/sql a context that is already done with ErrUnstorable
// as its error; database/sql checks the context before it takes a connection and returns that
// error without sending anything. The context never leaves that one call.
type guardHook struct{}

var _ bun.QueryHook = guardHook{}

func (guardHook) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !strings.Contains(e.Query, "?!(") {
		return ctx
	}
	for _, m := range unstorableMarks {
		if strings.Contains(e.Query, m) {
			return refusedContext{ctx}
		}
	}
	return ctx
}

func (guardHook) AfterQuery(context.Context, *bun.QueryEvent) {}

// refusedContext is done from the start, with ErrUnstorable as its error.
type refusedContext struct{ context.Context }

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (refusedContext) Done() <-chan struct{} { return closedChan }
func (refusedContext) Err() error            { return ErrUnstorable }

// newDB is bun.NewDB with the checks above: every handle this package opens has them.
func newDB(sqldb *sql.DB, d schema.Dialect) *bun.DB {
	return bun.NewDB(sqldb, guardedDialect{d}).WithQueryHook(guardHook{})
}
