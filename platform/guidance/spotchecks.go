package guidance

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

type spotRow struct {
	bun.BaseModel `bun:"table:guidance_spotchecks"`
	ID            string `bun:"id,pk"`
	CountyID      string `bun:"county_id"`
	Seed          int64  `bun:"seed"`
	Size          int    `bun:"size"`
	FromMS        int64  `bun:"from_at"`
	ToMS          int64  `bun:"to_at"`
	CaseIDs       string `bun:"case_ids"`
	DueMS         int64  `bun:"due_at"`
	CreatedBy     string `bun:"created_by"`
	CreatedMS     int64  `bun:"created_at"`
}

type recheckRow struct {
	bun.BaseModel `bun:"table:guidance_rechecks"`
	SpotCheckID   string `bun:"spotcheck_id,pk"`
	CaseID        string `bun:"case_id,pk"`
	Passed        bool   `bun:"passed"`
	Note          string `bun:"note"`
	CheckedBy     string `bun:"checked_by"`
	CheckedMS     int64  `bun:"checked_at"`
}

// SpotCheck is a sample of a county's closed cases drawn for re-inspection (核查抽检). The seed
// and the period reproduce the draw: the closed cases of the period ordered by id, shuffled by
// a PCG generator seeded with Seed, the first Size taken.
type SpotCheck struct {
	ID        string    `json:"id"`
	County    string    `json:"county"`
	Name      string    `json:"name"`
	Seed      int64     `json:"seed"`
	Size      int       `json:"size"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	CaseIDs   []string  `json:"case_ids"`
	DueAt     time.Time `json:"due_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	// Items are the sampled cases with the county's re-inspection, where it made one.
	Items []Recheck `json:"items,omitempty"`
}

// Recheck is the county's re-inspection of one sampled case.
type Recheck struct {
	CaseID    string     `json:"case_id"`
	Number    string     `json:"number,omitempty"`
	Passed    *bool      `json:"passed"`
	Note      string     `json:"note,omitempty"`
	CheckedBy string     `json:"checked_by,omitempty"`
	CheckedAt *time.Time `json:"checked_at,omitempty"`
}

func (r *spotRow) spot() SpotCheck {
	out := SpotCheck{ID: r.ID, Seed: r.Seed, Size: r.Size, From: fromMS(r.FromMS), To: fromMS(r.ToMS), DueAt: fromMS(r.DueMS),
		CreatedBy: r.CreatedBy, CreatedAt: fromMS(r.CreatedMS), CaseIDs: []string{}}
	_ = json.Unmarshal([]byte(r.CaseIDs), &out.CaseIDs)
	return out
}

// SpotInput is a spot check to draw: how many closed cases, closed in [From, To) (dates), a
// seed (none: a random one, shown), the deadline of the re-inspection.
type SpotInput struct {
	County string `json:"county"`
	Size   int    `json:"size"`
	From   string `json:"from"`
	To     string `json:"to"`
	Seed   *int64 `json:"seed"`
	Due    string `json:"due"`
}

// Sample draws size of ids (sorted first) with seed: the spot check's reproducible draw.
func Sample(ids []string, size int, seed int64) []string {
	ids = append([]string(nil), ids...)
	sort.Strings(ids)
	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if size < len(ids) {
		ids = ids[:size]
	}
	return ids
}

// DrawSpotCheck draws a spot check of a county of the prefecture of ctx: its closed cases of
// the period are read through the channel, the sample is the prefecture's record.
func (s *Service) DrawSpotCheck(ctx context.Context, in SpotInput) (*SpotCheck, error) {
	pref, err := asPrefecture(ctx, true)
	if err != nil {
		return nil, err
	}
	from, ferr := time.ParseInLocation("2006-01-02", in.From, chinaTime)
	to, terr := time.ParseInLocation("2006-01-02", in.To, chinaTime)
	if ferr != nil || terr != nil || !from.Before(to) || in.Size < 1 || in.Size > 50 {
		return nil, errs.Field("size", msgBadSample)
	}
	due, err := parseDue("due", in.Due, s.now())
	if err != nil {
		return nil, err
	}
	if due == nil {
		return nil, errs.Field("due", msgBadDue)
	}
	if !okText(in.County, 63) {
		return nil, errs.Field("county", msgNoCounty, "")
	}
	c, err := s.Channel.CountyOf(ctx, pref, in.County)
	if err != nil {
		return nil, errs.Field("county", msgNoCounty, in.County)
	}
	seed := rand.Int64()
	if in.Seed != nil {
		seed = *in.Seed
	}
	var closed []string
	if err := s.Channel.FromCounty(ctx, c, "closed cases", func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Table("cases").Column("id").Where("state = 'closed' AND closed_at >= ? AND closed_at < ?", from.UTC(), to.UTC()).
			OrderExpr("id").Limit(100000).Scan(ctx, &closed)
	}); err != nil {
		return nil, err
	}
	if len(closed) == 0 {
		return nil, errs.E(errs.Conflict, msgNoClosedCases, c.NameZH)
	}
	r := &spotRow{ID: newID(), CountyID: c.ID.String(), Seed: seed, Size: in.Size, FromMS: ms(from), ToMS: ms(to),
		CaseIDs: mustJSON(Sample(closed, in.Size, seed)), DueMS: ms(*due), CreatedBy: actor(ctx), CreatedMS: ms(s.now())}
	if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(r).Exec(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	sp := r.spot()
	sp.County, sp.Name = c.Slug, c.NameZH
	return &sp, s.gate.AuditTenant(ctx, "guidance.spotcheck.draw", r.ID, map[string]any{"county": c.Slug, "seed": seed, "size": in.Size})
}

// SpotChecks lists the prefecture's spot checks, newest first.
func (s *Service) SpotChecks(ctx context.Context) ([]SpotCheck, error) {
	pref, err := asPrefecture(ctx, false)
	if err != nil {
		return nil, err
	}
	cs, err := s.Channel.Counties(ctx, pref)
	if err != nil {
		return nil, err
	}
	out := []SpotCheck{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []spotRow
		if err := db.NewSelect().Model(&rows).OrderExpr("created_at DESC, id").Limit(500).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			sp := r.spot()
			for _, c := range cs {
				if c.ID.String() == r.CountyID {
					sp.County, sp.Name = c.Slug, c.NameZH
				}
			}
			out = append(out, sp)
		}
		return nil
	})
	return out, err
}

// readRechecks fills sp's items from the county's re-inspections and case numbers in db.
func readRechecks(ctx context.Context, db bun.IDB, sp *SpotCheck) error {
	var rows []recheckRow
	if err := db.NewSelect().Model(&rows).Where("spotcheck_id = ?", sp.ID).Scan(ctx); err != nil {
		return err
	}
	var nums []struct {
		ID     string `bun:"id"`
		Number string `bun:"number"`
	}
	if len(sp.CaseIDs) > 0 {
		if err := db.NewSelect().Table("cases").Column("id", "number").Where("id IN (?)", bun.List(sp.CaseIDs)).Scan(ctx, &nums); err != nil {
			return err
		}
	}
	sp.Items = make([]Recheck, len(sp.CaseIDs))
	for i, id := range sp.CaseIDs {
		sp.Items[i] = Recheck{CaseID: id}
		for _, n := range nums {
			if n.ID == id {
				sp.Items[i].Number = n.Number
			}
		}
		for _, r := range rows {
			if r.CaseID == id {
				p, at := r.Passed, fromMS(r.CheckedMS)
				sp.Items[i].Passed, sp.Items[i].Note, sp.Items[i].CheckedBy, sp.Items[i].CheckedAt = &p, r.Note, r.CheckedBy, &at
			}
		}
	}
	return nil
}

// SpotCheckStatus reads one of the prefecture's spot checks with the county's re-inspections
// (through the channel).
func (s *Service) SpotCheckStatus(ctx context.Context, id string) (*SpotCheck, error) {
	pref, err := asPrefecture(ctx, false)
	if err != nil {
		return nil, err
	}
	if id, err = checkID("id", id); err != nil {
		return nil, err
	}
	var r spotRow
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return notFound(db.NewSelect().Model(&r).Where("id = ?", id).Scan(ctx), msgNoSpotCheck)
	}); err != nil {
		return nil, err
	}
	sp := r.spot()
	cid, err := uuid.Parse(r.CountyID)
	if err != nil {
		return nil, err
	}
	c, err := s.gate.FindTenantByID(ctx, cid)
	if err != nil {
		return nil, err
	}
	sp.County, sp.Name = c.Slug, c.NameZH
	err = s.Channel.FromCounty(ctx, c, "spotcheck "+id, func(ctx context.Context, db bun.IDB) error { return readRechecks(ctx, db, &sp) })
	_ = pref
	return &sp, err
}

// MySpotChecks lists the spot checks of the county of ctx, newest first, with its re-inspections.
func (s *Service) MySpotChecks(ctx context.Context) ([]SpotCheck, error) {
	return s.mySpotChecks(ctx, "")
}

func (s *Service) mySpotChecks(ctx context.Context, only string) ([]SpotCheck, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	out := []SpotCheck{}
	err := s.Channel.FromPrefecture(ctx, "spotchecks", func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, county uuid.UUID) error {
		var rows []spotRow
		q := db.NewSelect().Model(&rows).Where("county_id = ?", county.String()).OrderExpr("created_at DESC, id").Limit(200)
		if only != "" {
			q = q.Where("id = ?", only)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.spot())
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return out, nil
	}
	if err != nil || len(out) == 0 {
		return out, err
	}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for i := range out {
			if err := readRechecks(ctx, db, &out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// RecheckInput is the county's re-inspection of one sampled case.
type RecheckInput struct {
	CaseID string `json:"case_id"`
	Passed bool   `json:"passed"`
	Note   string `json:"note"`
}

// Recheck records the county's re-inspection of a case of a spot check of it.
func (s *Service) Recheck(ctx context.Context, id string, in RecheckInput) (*SpotCheck, error) {
	if _, err := asCounty(ctx, true); err != nil {
		return nil, err
	}
	id, err := checkID("id", id)
	if err != nil {
		return nil, err
	}
	note, err := optionalText("note", "note", in.Note, 2000)
	if err != nil {
		return nil, err
	}
	if !in.Passed && note == "" {
		if _, err := cleanText("note", "note", note, 2000); err != nil {
			return nil, err
		}
	}
	sps, err := s.mySpotChecks(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(sps) == 0 {
		return nil, errs.E(errs.NotFound, msgNoSpotCheck)
	}
	if !contains(sps[0].CaseIDs, in.CaseID) {
		return nil, errs.Field("case_id", msgNotInSample, safeCase(in.CaseID))
	}
	r := &recheckRow{SpotCheckID: id, CaseID: in.CaseID, Passed: in.Passed, Note: note, CheckedBy: actor(ctx), CheckedMS: ms(s.now())}
	if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(r).On("CONFLICT (spotcheck_id, case_id) DO UPDATE").
			Set("passed = EXCLUDED.passed, note = EXCLUDED.note, checked_by = EXCLUDED.checked_by, checked_at = EXCLUDED.checked_at").Exec(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "guidance.spotcheck.recheck", id, map[string]any{"case": in.CaseID, "passed": in.Passed}); err != nil {
		return nil, err
	}
	out, err := s.mySpotChecks(ctx, id)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

func safeCase(id string) string {
	if _, err := uuid.Parse(id); err == nil {
		return id
	}
	return "?"
}
