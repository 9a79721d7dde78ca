package tenants

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// txConnKey carries the connection of a tenant write transaction on PostgreSQL.
type txConnKey struct{}

// CopyFrom inserts models (a slice of pointers to one bun model) into their table inside the
// tenant write transaction ctx and db belong to: with PostgreSQL's COPY when it can (several
// times faster than INSERT for thousands of rows; the table's statement triggers fire as for an
// INSERT), else with multi-row INSERTs of batch rows (SQLite, whose bound on a statement's
// arguments batch must respect). Every column of the model is written as bun would write it (a
// nil pointer or a zero nullzero field is NULL); the table resolves through the transaction's
// search path, as a tenant's statements do.
func CopyFrom[T any](ctx context.Context, db bun.IDB, models []*T, batch int) error {
	if len(models) == 0 {
		return nil
	}
	conn, ok := ctx.Value(txConnKey{}).(bun.Conn)
	if !ok || db.Dialect().Name() != dialect.PG {
		for rest := models; len(rest) > 0; {
			part := rest[:min(len(rest), batch)]
			if _, err := db.NewInsert().Model(&part).Exec(ctx); err != nil {
				return dbx.Translate(err)
			}
			rest = rest[len(part):]
		}
		return nil
	}
	table := db.Dialect().Tables().Get(reflect.TypeFor[T]())
	cols := make([]string, len(table.Fields))
	for i, f := range table.Fields {
		cols[i] = f.Name
	}
	rows := make([][]any, len(models))
	for i, m := range models {
		strct := reflect.ValueOf(m).Elem()
		row := make([]any, len(table.Fields))
		for j, f := range table.Fields {
			v := f.Value(strct)
			switch {
			case f.IsPtr && v.IsNil(), f.NullZero && f.IsZero(v):
				row[j] = nil
			case v.Kind() == reflect.Pointer:
				row[j] = v.Elem().Interface()
			default:
				row[j] = v.Interface()
			}
			if t, ok := row[j].(time.Time); ok { // bun writes times in UTC; COPY would keep the zone's wall clock
				row[j] = t.UTC()
			}
		}
		rows[i] = row
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("tenants: copy into %s: the driver's connection is a %T", table.Name, dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table.Name}, cols, pgx.CopyFromRows(rows))
		return dbx.Translate(err)
	})
}
