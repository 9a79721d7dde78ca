package cases

import (
	"context"
	"slices"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Imported history: cases brought in from the systems a county ran before (platform/exchange's
// vendor import) keep their own history. Their events are written as they were recorded there,
// with their original times, and are not replayed through the state machine: the importer builds
// the case as its last history row left it and calls InsertImportedIn in its own transaction.

// ActionResult returns the state an action leads to and the post that takes it, as the machine
// says (report: reported, by the acceptor; self_handle: closed, by the inspector; supervise: the
// state does not change, to is ""). ok is false for an action that is not one.
func ActionResult(a Action) (to State, post tenants.Role, ok bool) {
	switch a {
	case Report:
		return Reported, tenants.Acceptor, true
	case SelfHandle:
		return Closed, tenants.Inspector, true
	case Supervise:
		return "", tenants.Leader, true
	}
	i := slices.IndexFunc(Machine, func(t Transition) bool { return t.Action == a })
	if i < 0 {
		return "", "", false
	}
	return Machine[i].To, Machine[i].Posts[0], true
}

// InsertImportedIn numbers the imported cases cs (by the year, in China time, of their
// CreatedAt, from the same counter as reports) and inserts them with their events evs, whose
// CaseID and ID the caller set to the cases' ids and new ids. Each case must be complete: state,
// version (its events' count), times and the text columns (extensions and pauses "[]").
func InsertImportedIn(ctx context.Context, db bun.IDB, tenant *tenants.Tenant, cs []*Case, evs []*Event) error {
	byYear := map[int][]*Case{}
	var years []int
	for _, c := range cs {
		y := c.CreatedAt.In(clock.China).Year()
		if _, ok := byYear[y]; !ok {
			years = append(years, y)
		}
		byYear[y] = append(byYear[y], c)
	}
	slices.Sort(years)
	for _, year := range years {
		ycs := byYear[year]
		var last int64
		if err := db.NewRaw(counterSQL, year, len(ycs)).Scan(ctx, &last); err != nil {
			return dbx.Translate(err)
		}
		number(tenant, year, last, ycs)
	}
	// COPY on PostgreSQL; on SQLite a few hundred rows a statement keeps under its bound on
	// arguments.
	if err := tenants.CopyFrom(ctx, db, cs, 200); err != nil {
		return err
	}
	return InsertEventsIn(ctx, db, evs)
}

// InsertEventsIn appends imported events to cases already stored (a corrected vendor record
// whose history grew). The caller updates the case's row in the same transaction.
func InsertEventsIn(ctx context.Context, db bun.IDB, evs []*Event) error {
	return tenants.CopyFrom(ctx, db, evs, 1000) // 13 columns: under SQLite's bound on arguments
}

// caseImport is a row of case_imports: a case an import run created or updated.
type caseImport struct {
	bun.BaseModel `bun:"table:case_imports"`
	Run           string `bun:"run,pk"`
	CaseID        string `bun:"case_id,pk"`
}

// MarkImportedIn records, in the caller's transaction, that the import run run created or updated
// the cases ids (the case list's filter import_run). Recording a case twice for a run is harmless.
func MarkImportedIn(ctx context.Context, db bun.IDB, run string, ids []string) error {
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		rows := make([]caseImport, len(part))
		for i, id := range part {
			rows[i] = caseImport{Run: run, CaseID: id}
		}
		if _, err := db.NewInsert().Model(&rows).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
	}
	return nil
}
