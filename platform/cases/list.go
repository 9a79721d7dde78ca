package cases

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/uptrace/bun"
)

// Filter selects cases; empty fields match all.
type Filter struct {
	States    []State
	Kind      string
	ClassCode string
	// GridCode matches a unit grid, or every unit grid of a community (code ending in 00) or a
	// street (ending in 00000).
	GridCode     string
	DepartmentID string
	Source       Source
	// Overdue matches cases whose disposal clock or current stage's clock ran over.
	Overdue *bool
	// Stage matches the cases in a stage; StageOverdue those whose current stage ran over.
	Stage        Stage
	StageOverdue *bool
	Supervised   *bool
	From, To     *time.Time
	// ImportRun matches the cases an import run (platform/exchange's vendor_runs.id) created or
	// updated (case_imports); it must be a UUID.
	ImportRun string
	// Survey matches by the citizens' survey (回访, case_surveys): "answered", "solved" or
	// "not_solved" (survey_filter.go).
	Survey string
	// BBox is minLon, minLat, maxLon, maxLat (GeoJSON only).
	BBox *[4]float64
	// Cursor is the Next of the previous page; Limit is the page size (default 50, at most 500).
	Cursor string
	Limit  int
}

// Page is one page of cases, newest first; Next is the cursor of the following page, "" at the
// end.
type Page struct {
	Cases []Case `json:"cases"`
	Next  string `json:"next,omitempty"`
}

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + strconv.FormatInt(seq, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && strings.HasPrefix(string(b), "c1:") {
		if n, err := strconv.ParseInt(string(b[3:]), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, errs.Field("cursor", msgCursorNotOneApiGave)
}

func (f *Filter) apply(q *bun.SelectQuery) (*bun.SelectQuery, error) {
	if len(f.States) > 0 {
		q = q.Where("state IN (?)", bun.List(f.States))
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.ClassCode != "" {
		q = q.Where("class_code = ?", f.ClassCode)
	}
	if g := f.GridCode; g != "" {
		switch {
		case len(g) == 14 && strings.HasSuffix(g, "00000"):
			q = q.Where("grid_code >= ? AND grid_code < ?", g[:9], g[:9]+":")
		case len(g) == 14 && strings.HasSuffix(g, "00"):
			q = q.Where("grid_code >= ? AND grid_code < ?", g[:12], g[:12]+":")
		default:
			q = q.Where("grid_code = ?", g)
		}
	}
	if f.DepartmentID != "" {
		q = q.Where("department_id = ?", f.DepartmentID)
	}
	if f.Source != "" {
		q = q.Where("source = ?", f.Source)
	}
	if f.Overdue != nil {
		// Any clock: the disposal or the current stage's (the partial index
		// cases_any_overdue_seq has this very predicate).
		if *f.Overdue {
			q = q.Where("(overdue OR stage_overdue)")
		} else {
			q = q.Where("NOT (overdue OR stage_overdue)")
		}
	}
	if f.StageOverdue != nil {
		q = q.Where("stage_overdue = ?", *f.StageOverdue)
	}
	if f.Stage != "" {
		ss := statesOf(f.Stage)
		if len(ss) == 0 {
			return nil, errs.Field("stage", msgStageNotOneAcceptVerify, textutil.Truncate(string(f.Stage), 20))
		}
		q = q.Where("state IN (?)", bun.List(ss))
	}
	if f.Supervised != nil {
		q = q.Where("supervised = ?", *f.Supervised)
	}
	if f.From != nil {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	if f.ImportRun != "" {
		if _, err := uuid.Parse(f.ImportRun); err != nil || len(f.ImportRun) != 36 {
			return nil, errs.Field("import_run", msgImportRunNotOne, textutil.Truncate(f.ImportRun, 40))
		}
		q = q.Where("id IN (SELECT case_id FROM case_imports WHERE run = ?)", strings.ToLower(f.ImportRun))
	}
	if f.Survey != "" {
		cond, err := surveyCondition(f.Survey)
		if err != nil {
			return nil, err
		}
		q = q.Where("id IN (SELECT case_id FROM case_surveys" + cond + ")")
	}
	if b := f.BBox; b != nil {
		q = q.Where("lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?", b[1], b[3], b[0], b[2])
	}
	if f.Cursor != "" {
		seq, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("seq < ?", seq)
	}
	return q, nil
}

// FindCases returns a page of the cases matching f, newest first. The cursor is the position in
// creation order (seq, which grows with created_at and breaks its ties), so pages stay stable
// while new cases arrive. Personal data is never listed.
func (s *Service) FindCases(ctx context.Context, f Filter) (*Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	page := &Page{Cases: []Case{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q, err := f.apply(db.NewSelect().Model(&page.Cases).ExcludeColumn("reporter_name_enc", "reporter_phone_enc"))
		if err != nil {
			return err
		}
		return q.OrderExpr("seq DESC").Limit(int64(f.Limit + 1)).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(page.Cases) > f.Limit {
		page.Cases = page.Cases[:f.Limit]
		page.Next = encodeCursor(page.Cases[f.Limit-1].Seq)
	}
	for i := range page.Cases {
		if err := page.Cases[i].decode(); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// MaxFeatures bounds the cases of one map window.
const MaxFeatures = 5000

// GeoJSON returns the cases matching f (with f.BBox the map window) as a FeatureCollection of
// points, newest first, at most MaxFeatures.
func (s *Service) GeoJSON(ctx context.Context, f Filter) (*geojson.FeatureCollection, error) {
	if f.BBox == nil {
		return nil, errs.Field("bbox", msgGiveMapWindowBboxMinlon)
	}
	if b := f.BBox; b[0] > b[2] || b[1] > b[3] {
		return nil, errs.Field("bbox", msgBboxMinlonMinlatMaxlonMaxlat)
	}
	f.Cursor = ""
	var cs []Case
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q, err := f.apply(db.NewSelect().Model(&cs).Column("id", "number", "state", "kind", "class_code", "lon", "lat", "overdue", "supervised", "created_at"))
		if err != nil {
			return err
		}
		return q.OrderExpr("seq DESC").Limit(MaxFeatures).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	fc := geojson.NewFeatureCollection()
	for _, c := range cs {
		ft := geojson.NewFeature(orb.Point{c.Lon, c.Lat})
		ft.ID = c.ID
		ft.Properties = geojson.Properties{"number": c.Number, "state": c.State, "kind": c.Kind, "class_code": c.ClassCode,
			"overdue": c.Overdue, "supervised": c.Supervised, "created_at": c.CreatedAt}
		fc.Append(ft)
	}
	return fc, nil
}

// MarkOverdue recomputes, in the tenant of ctx, the clock of every case whose disposal clock
// runs past its stored deadline and of every case whose current stage (accept, verify, file,
// dispatch, send_check, check, close) has run past its deadline, and marks the overdue ones with
// their overtime multiple (overdue / stage_overdue). It works from the database alone, with the
// calendar read afresh, so a run after a restart catches up on everything; it does not change a
// case's version (no one acted on it). It returns how many cases have a clock overdue now.
func (s *Service) MarkOverdue(ctx context.Context) (int, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return 0, errs.E(errs.Internal, msgOverdueJobRunWithoutTenant)
	}
	n := 0
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		now := s.clock()
		var disposal, stage []Case
		if err := db.NewSelect().Model(&disposal).Column(overdueColumns...).
			Where("clock_start IS NOT NULL AND clock_stopped_at IS NULL AND deadline_at <= ?", now).Scan(ctx); err != nil {
			return err
		}
		// The literal predicate matches the partial index cases_stage_deadline.
		if err := db.NewSelect().Model(&stage).Column(overdueColumns...).
			Where("stage <> 'handle' AND stage_deadline_at <= ?", now).Scan(ctx); err != nil {
			return err
		}
		if len(disposal)+len(stage) == 0 {
			return nil
		}
		s.rules.Forget(sc.Tenant.ID) // the job reads afresh
		r, err := s.rulesFor(ctx, db, sc.Tenant.ID)
		if err != nil {
			return err
		}
		for _, cs := range [][]Case{disposal, stage} {
			for i := range cs {
				c := &cs[i]
				if err := c.decode(); err != nil {
					return err
				}
				if err := c.refreshClock(r.cal, now); err != nil {
					return err
				}
				if err := c.refreshStage(r.cal, now); err != nil {
					return err
				}
				if _, err := db.NewUpdate().Table("cases").
					Set("overdue = ?, overtime_multiple = ?, deadline_at = ?", c.Overdue, c.OvertimeMultiple, c.DeadlineAt).
					Set("stage_overdue = ?, stage_overtime_multiple = ?, stage_deadline_at = ?", c.StageOverdue, c.StageOvertimeMultiple, c.StageDeadlineAt).
					Where("id = ?", c.ID).Exec(ctx); err != nil {
					return err
				}
				if c.Overdue || c.StageOverdue {
					n++
				}
			}
		}
		return nil
	})
	return n, err
}

// MarkOverdueAll runs MarkOverdue in every active tenant, as the system, workers tenants at a
// time (at least one). A tenant that fails is logged (with its slug, on the service's logger)
// and does not stop the others; MarkOverdueAll returns how many failed, and an error only when
// the tenants cannot be listed. Failures caused by ctx ending are not counted: the job was
// stopped, and the next run catches up from the database.
func (s *Service) MarkOverdueAll(ctx context.Context, workers int) (failed int, err error) {
	if s.tenants == nil {
		return 0, errs.E(errs.Internal, msgOverdueJobRunWithoutTenant2)
	}
	ts, err := s.tenants.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
	if err != nil {
		return 0, fmt.Errorf("overdue job: listing tenants: %w", err)
	}
	workers = max(workers, 1)
	sem := make(chan struct{}, workers)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, t := range ts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if _, err := s.MarkOverdue(tenants.WithScope(ctx, tenants.SystemScope(t))); err != nil && ctx.Err() == nil {
				s.log.Error("overdue job", "tenant", t.Slug, "err", err)
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, nil
}

// overdueColumns are what the overdue job reads of a case.
var overdueColumns = []string{"id", "limit_amount", "limit_unit", "extensions", "pauses", "pending", "clock_start",
	"deadline_at", "clock_stopped_at", "overdue", "overtime_multiple", "stage", "stage_started_at",
	"stage_limit_amount", "stage_limit_unit", "stage_deadline_at", "stage_overdue", "stage_overtime_multiple"}
