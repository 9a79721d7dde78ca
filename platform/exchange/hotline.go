package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/grids"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// HotlineCases is what the hotline needs of the case loop ((*cases.Service) satisfies it).
type HotlineCases interface {
	Report(ctx context.Context, in cases.ReportInput) (*cases.Case, error)
	FindCaseByID(ctx context.Context, id string) (*cases.Case, error)
}

// Geocoder places an address in the tenant's grids, by the grid it names ((*grids.Service)
// satisfies it).
type Geocoder interface {
	Geocode(ctx context.Context, address string) (grids.Place, bool, error)
}

// HotlineConfig is what a Hotline is built from.
type HotlineConfig struct {
	Gate  Gate
	Cases HotlineCases
	// Geocoder places work orders that come without a point (nil: they are refused).
	Geocoder Geocoder
	Now      func() time.Time
}

// Hotline takes the work orders (工单) of the 12345 government hotline in: each becomes a case
// with source hotline, once per work-order number. Their outcome goes back through the outbox,
// to a destination with profile ProfileHotline.
type Hotline struct {
	gate     Gate
	cases    HotlineCases
	geocoder Geocoder
	now      func() time.Time
}

// NewHotline returns a Hotline built from cfg.
func NewHotline(cfg HotlineConfig) *Hotline {
	h := &Hotline{gate: cfg.Gate, cases: cfg.Cases, geocoder: cfg.Geocoder, now: cfg.Now}
	if h.now == nil {
		h.now = clock.Now
	}
	return h
}

// WorkOrderInput is a work order as the hotline submits it. Lon and Lat are optional: without
// them the address must name one of the tenant's grids (the grid names are its gazetteer).
type WorkOrderInput struct {
	Number       string     `json:"number"`
	CitizenName  string     `json:"citizen_name"`
	CitizenPhone string     `json:"citizen_phone"`
	Address      string     `json:"address"`
	Lon          *float64   `json:"lon"`
	Lat          *float64   `json:"lat"`
	Description  string     `json:"description"`
	Category     string     `json:"category"`
	Deadline     *time.Time `json:"deadline"`
}

// WorkOrder is a work order taken in: the case it became.
type WorkOrder struct {
	Number     string       `json:"number"`
	CaseID     string       `json:"case_id"`
	CaseNumber string       `json:"case_number"`
	State      string       `json:"state"`
	Kind       catalog.Kind `json:"kind"`
	ClassCode  string       `json:"class_code"`
	Deadline   *time.Time   `json:"deadline"`
	ReceivedAt time.Time    `json:"received_at"`
	// Satisfaction is the citizen's satisfaction as the hotline reported it (SetSatisfaction);
	// nil until it has.
	Satisfaction *Satisfaction `json:"satisfaction"`
}

// Satisfaction is the result of the hotline's return visit (回访) to the citizen.
type Satisfaction struct {
	Result     string    `json:"result"`
	Comment    string    `json:"comment"`
	RecordedAt time.Time `json:"recorded_at"`
}

// The satisfaction results (满意, 基本满意, 不满意).
var SatisfactionResults = []string{"satisfied", "basically_satisfied", "dissatisfied"}

// hotlineOrder links a work-order number to its case (case_id empty while it is made).
type hotlineOrder struct {
	bun.BaseModel `bun:"table:hotline_orders"`
	Number        string     `bun:"number,pk"`
	CaseID        *string    `bun:"case_id"`
	Digest        string     `bun:"digest"`
	DeadlineAt    *time.Time `bun:"deadline_at"`
	CreatedAt     time.Time  `bun:"created_at"`
	Satisfaction  string     `bun:"satisfaction"`
	SatComment    string     `bun:"satisfaction_comment"`
	SatAt         *time.Time `bun:"satisfaction_at"`
}

// hotlineClass maps a hotline category ("*": every other) to a class.
type hotlineClass struct {
	bun.BaseModel `bun:"table:hotline_classes"`
	Category      string       `bun:"category,pk"`
	Kind          catalog.Kind `bun:"kind"`
	ClassCode     string       `bun:"class_code"`
	UpdatedAt     time.Time    `bun:"updated_at"`
}

// DefaultCategory is the mapping row of every category not listed.
const DefaultCategory = "*"

// claimTimeout is how long a claimed work order may wait for its case before another
// submission of it takes the claim over (the first one died between claim and report).
const claimTimeout = time.Minute

func (w *WorkOrderInput) check() error {
	w.Number, w.Category = strings.TrimSpace(w.Number), strings.TrimSpace(w.Category)
	w.CitizenName, w.CitizenPhone = strings.TrimSpace(w.CitizenName), strings.TrimSpace(w.CitizenPhone)
	w.Address, w.Description = strings.TrimSpace(w.Address), strings.TrimSpace(w.Description)
	if !validNumber(w.Number) {
		return errs.Field("number", msgHotlineNumber)
	}
	for _, f := range []struct {
		name, v string
		n       int
	}{{"citizen_name", w.CitizenName, 50}, {"citizen_phone", w.CitizenPhone, 30}, {"address", w.Address, 200},
		{"description", w.Description, 2000}, {"category", w.Category, 100}} {
		v := f.v
		if f.name == "description" { // a description may run over lines
			v = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(v)
		}
		if err := checkText(f.name, v, f.n); err != nil {
			return err
		}
	}
	if w.Description == "" {
		return errs.Field("description", msgHotlineDescription)
	}
	if (w.Lon == nil) != (w.Lat == nil) {
		return errs.Field("lon", msgHotlinePoint)
	}
	if w.Lon != nil && !(*w.Lat >= -90 && *w.Lat <= 90 && *w.Lon >= -180 && *w.Lon <= 180) {
		return errs.Field("lon", msgHotlinePoint)
	}
	if w.Deadline != nil {
		d := w.Deadline.UTC().Truncate(time.Microsecond)
		w.Deadline = &d
	}
	return nil
}

// validNumber admits a work-order number: 1 to 64 ASCII letters, digits, - and _.
func validNumber(n string) bool {
	return n != "" && len(n) <= 64 && !strings.ContainsFunc(n, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_'))
	})
}

// digest is what identifies the content of a work order: a resubmission with the same digest is
// a repeat.
func (w *WorkOrderInput) digest() string {
	b, _ := json.Marshal(w)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// SubmitWorkOrder takes work order in into the tenant of ctx as a case with source hotline,
// reported by the caller (who needs the acceptor's post). A number submitted before returns its
// case (created false) when the content is the same, and is a conflict when it is not. The
// citizen's name and phone are encrypted by the case loop like every reporter's.
func (h *Hotline) SubmitWorkOrder(ctx context.Context, in WorkOrderInput) (*WorkOrder, bool, error) {
	if _, err := scope(ctx); err != nil {
		return nil, false, err
	}
	if err := in.check(); err != nil {
		return nil, false, err
	}
	digest := in.digest()
	if wo, err := h.existing(ctx, in.Number, digest); wo != nil || err != nil {
		return wo, false, err
	}
	class, err := h.classOf(ctx, in.Category)
	if err != nil {
		return nil, false, err
	}
	rin := cases.ReportInput{Source: cases.FromHotline, Kind: class.Kind, ClassCode: class.ClassCode, Description: in.Description,
		Address: in.Address, ReporterName: in.CitizenName, ReporterPhone: in.CitizenPhone}
	if in.Lon != nil {
		rin.Lon, rin.Lat = *in.Lon, *in.Lat
	} else {
		if in.Address == "" || h.geocoder == nil {
			return nil, false, errs.Field("lon", msgHotlineNoPoint)
		}
		p, ok, err := h.geocoder.Geocode(ctx, in.Address)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, errs.Field("address", msgHotlineAddress, textutil.Truncate(in.Address, 80))
		}
		rin.Lon, rin.Lat = p.Lon, p.Lat
		rin.PlacedBy = "address:" + p.Grid.Code + " " + p.Grid.Name
	}
	now := h.now().UTC().Truncate(time.Microsecond)
	if err := h.claim(ctx, &hotlineOrder{Number: in.Number, Digest: digest, DeadlineAt: in.Deadline, CreatedAt: now}); err != nil {
		if errs.Is(err, errs.Conflict) {
			// Another submission of the number got there first: answer as to a repeat.
			if wo, err := h.existing(ctx, in.Number, digest); wo != nil || err != nil {
				return wo, false, err
			}
		}
		return nil, false, err
	}
	c, err := h.cases.Report(ctx, rin)
	if err != nil {
		// The claim goes, so that the hotline may submit the number again once it is fixed.
		_ = h.gate.Tx(context.WithoutCancel(ctx), tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewDelete().Model((*hotlineOrder)(nil)).Where("number = ? AND case_id IS NULL", in.Number).Exec(ctx)
			return err
		})
		return nil, false, err
	}
	if err := h.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewUpdate().Model((*hotlineOrder)(nil)).Set("case_id = ?", c.ID).Where("number = ?", in.Number).Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return nil, false, err
	}
	return &WorkOrder{Number: in.Number, CaseID: c.ID, CaseNumber: c.Number, State: string(c.State), Kind: c.Kind,
		ClassCode: c.ClassCode, Deadline: in.Deadline, ReceivedAt: now}, true, nil
}

// existing returns the work order number when it has its case (nil when it is unknown), a
// conflict when it was submitted with other content or is being made right now.
func (h *Hotline) existing(ctx context.Context, number, digest string) (*WorkOrder, error) {
	var os []hotlineOrder
	if err := h.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&os).Where("number = ?", number).Scan(ctx)
	}); err != nil || len(os) == 0 {
		return nil, err
	}
	o := os[0]
	switch {
	case o.Digest != digest:
		return nil, errs.E(errs.Conflict, msgHotlineDifferent, number)
	case o.CaseID == nil && h.now().Sub(o.CreatedAt) < claimTimeout:
		return nil, errs.E(errs.Conflict, msgHotlineBusy, number)
	case o.CaseID == nil:
		return nil, nil // a claim left behind: taken over by claim
	}
	return h.workOrder(ctx, &o)
}

// workOrder is order o with its case as it stands.
func (h *Hotline) workOrder(ctx context.Context, o *hotlineOrder) (*WorkOrder, error) {
	c, err := h.cases.FindCaseByID(ctx, *o.CaseID)
	if err != nil {
		return nil, err
	}
	wo := &WorkOrder{Number: o.Number, CaseID: c.ID, CaseNumber: c.Number, State: string(c.State), Kind: c.Kind, ClassCode: c.ClassCode,
		Deadline: utcp(o.DeadlineAt), ReceivedAt: o.CreatedAt.UTC()}
	if o.SatAt != nil {
		wo.Satisfaction = &Satisfaction{Result: o.Satisfaction, Comment: o.SatComment, RecordedAt: o.SatAt.UTC()}
	}
	return wo, nil
}

// findOrder returns work order number, which must have its case; NotFound otherwise.
func (h *Hotline) findOrder(ctx context.Context, db bun.IDB, number string) (*hotlineOrder, error) {
	if !validNumber(number) {
		return nil, errs.E(errs.NotFound, msgHotlineNoOrder, textutil.Truncate(number, 64))
	}
	var os []hotlineOrder
	if err := db.NewSelect().Model(&os).Where("number = ? AND case_id IS NOT NULL", number).Scan(ctx); err != nil {
		return nil, err
	}
	if len(os) == 0 {
		return nil, errs.E(errs.NotFound, msgHotlineNoOrder, textutil.Truncate(number, 64))
	}
	return &os[0], nil
}

// FindWorkOrder returns work order number of the tenant of ctx with its case as it stands.
func (h *Hotline) FindWorkOrder(ctx context.Context, number string) (*WorkOrder, error) {
	var o *hotlineOrder
	if err := h.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) (err error) {
		o, err = h.findOrder(ctx, db, number)
		return err
	}); err != nil {
		return nil, err
	}
	return h.workOrder(ctx, o)
}

// SatisfactionInput is the hotline's return visit: the result (SatisfactionResults) and what
// the citizen said.
type SatisfactionInput struct {
	Result  string `json:"result"`
	Comment string `json:"comment"`
}

// SetSatisfaction records the citizen's satisfaction with work order number, as the hotline's
// return visit found it (a later visit replaces it). It is kept with the work order, beside
// the case's history (it is not a step of the case loop), and audited as
// exchange.hotline_satisfaction.
func (h *Hotline) SetSatisfaction(ctx context.Context, number string, in SatisfactionInput) (*WorkOrder, error) {
	in.Result, in.Comment = strings.TrimSpace(in.Result), strings.TrimSpace(in.Comment)
	if !slices.Contains(SatisfactionResults, in.Result) {
		return nil, errs.Field("result", msgHotlineSatisfaction, textutil.Truncate(in.Result, 30))
	}
	if err := checkText("comment", strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(in.Comment), 500); err != nil {
		return nil, err
	}
	var o *hotlineOrder
	err := h.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) (err error) {
		if o, err = h.findOrder(ctx, db, number); err != nil {
			return err
		}
		now := h.now().UTC().Truncate(time.Microsecond)
		o.Satisfaction, o.SatComment, o.SatAt = in.Result, in.Comment, &now
		_, err = db.NewUpdate().Model(o).Column("satisfaction", "satisfaction_comment", "satisfaction_at").WherePK().Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	if err := h.gate.AuditTenant(ctx, "exchange.hotline_satisfaction", number, map[string]string{"case_id": *o.CaseID, "result": in.Result}); err != nil {
		return nil, err
	}
	return h.workOrder(ctx, o)
}

// claim inserts the work order without its case, or takes over a claim left behind; a conflict
// when another submission holds it.
func (h *Hotline) claim(ctx context.Context, o *hotlineOrder) error {
	return h.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewDelete().Model((*hotlineOrder)(nil)).Where("number = ? AND case_id IS NULL AND created_at < ?",
			o.Number, o.CreatedAt.Add(-claimTimeout)).Exec(ctx); err != nil {
			return err
		}
		_, err := db.NewInsert().Model(o).Exec(ctx)
		return dbx.Translate(err)
	})
}

// classOf maps a hotline category to a class: its own row, else the default one.
func (h *Hotline) classOf(ctx context.Context, category string) (*hotlineClass, error) {
	var cs []hotlineClass
	if err := h.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&cs).Where("category IN (?)", bun.List([]string{category, DefaultCategory})).Scan(ctx)
	}); err != nil {
		return nil, err
	}
	var def *hotlineClass
	for i := range cs {
		if cs[i].Category == category {
			return &cs[i], nil
		}
		def = &cs[i]
	}
	if def == nil {
		return nil, errs.Field("category", msgHotlineNoClass, textutil.Truncate(category, 40))
	}
	return def, nil
}

// PutClass maps hotline category (DefaultCategory: every category not listed) to the minor
// class code of kind, in the tenant of ctx; the case loop checks the class when a work order
// is reported. It is audited as exchange.hotline_class.
func (h *Hotline) PutClass(ctx context.Context, category string, kind catalog.Kind, code string) error {
	category = strings.TrimSpace(category)
	if category == "" {
		return errs.Field("category", msgHotlineCategory)
	}
	if err := checkText("category", category, 100); err != nil {
		return err
	}
	k, ok := catalog.ParseKind(string(kind))
	if !ok || len(code) != 4 || strings.Trim(code, "0123456789") != "" {
		return errs.Field("class_code", msgHotlineClassCode, textutil.Truncate(string(kind), 20), textutil.Truncate(code, 10))
	}
	row := &hotlineClass{Category: category, Kind: k, ClassCode: code, UpdatedAt: h.now().UTC().Truncate(time.Microsecond)}
	if err := h.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(row).On("CONFLICT (category) DO UPDATE").Set("kind = EXCLUDED.kind").
			Set("class_code = EXCLUDED.class_code").Set("updated_at = EXCLUDED.updated_at").Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return err
	}
	return h.gate.AuditTenant(ctx, "exchange.hotline_class", category, map[string]string{"kind": string(k), "class_code": code})
}
