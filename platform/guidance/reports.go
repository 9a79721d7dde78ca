package guidance

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Field is one field of a report template: a number, a text, or an indicator (a number
// pre-filled from the county's own monthly figure of that name, which the county may correct).
type Field struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Type      string `json:"type"`
	Indicator string `json:"indicator,omitempty"`
}

type templateRow struct {
	bun.BaseModel `bun:"table:guidance_templates,alias:i"`
	ID            string `bun:"id,pk"`
	Title         string `bun:"title"`
	Fields        string `bun:"fields"`
	DueDay        int    `bun:"due_day"`
	CreatedBy     string `bun:"created_by"`
	CreatedMS     int64  `bun:"created_at"`
	AllCounties   bool   `bun:"-"`
}

type submissionRow struct {
	bun.BaseModel `bun:"table:guidance_submissions"`
	TemplateID    string `bun:"template_id,pk"`
	Period        string `bun:"period,pk"`
	Values        string `bun:"values"`
	SubmittedBy   string `bun:"submitted_by"`
	SubmittedMS   int64  `bun:"submitted_at"`
}

// Template is a monthly report template (e.g. 工作月报): its fields and the day of the following
// month by which a month's report is due.
type Template struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Fields    []Field   `json:"fields"`
	DueDay    int       `json:"due_day"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Counties  []string  `json:"counties,omitempty"`
}

// Submission is a county's report of one month.
type Submission struct {
	Period      string            `json:"period"`
	Values      map[string]string `json:"values"`
	SubmittedBy string            `json:"submitted_by"`
	SubmittedAt time.Time         `json:"submitted_at"`
}

func (r *templateRow) template() Template {
	t := Template{ID: r.ID, Title: r.Title, DueDay: r.DueDay, CreatedBy: r.CreatedBy, CreatedAt: fromMS(r.CreatedMS), Fields: []Field{}}
	_ = json.Unmarshal([]byte(r.Fields), &t.Fields)
	return t
}

func (r *submissionRow) submission() *Submission {
	out := &Submission{Period: r.Period, SubmittedBy: r.SubmittedBy, SubmittedAt: fromMS(r.SubmittedMS), Values: map[string]string{}}
	_ = json.Unmarshal([]byte(r.Values), &out.Values)
	return out
}

var fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// TemplateInput is a template to define.
type TemplateInput struct {
	Title    string   `json:"title"`
	Fields   []Field  `json:"fields"`
	DueDay   int      `json:"due_day"`
	All      bool     `json:"all"`
	Counties []string `json:"counties"`
}

// CreateTemplate defines a monthly report template of the prefecture of ctx for all or the
// chosen counties (all: the counties there are now).
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (*Template, error) {
	pref, err := asPrefecture(ctx, true)
	if err != nil {
		return nil, err
	}
	r := &templateRow{ID: newID(), DueDay: in.DueDay, CreatedBy: actor(ctx), CreatedMS: ms(s.now())}
	if r.Title, err = cleanText("title", "title", in.Title, 200); err != nil {
		return nil, err
	}
	if r.DueDay == 0 {
		r.DueDay = 5
	}
	if r.DueDay < 1 || r.DueDay > 28 {
		return nil, errs.Field("due_day", msgBadPeriod)
	}
	if len(in.Fields) == 0 || len(in.Fields) > 50 {
		return nil, errs.Field("fields", msgTooManyItems, 50, "fields")
	}
	fields := make([]Field, len(in.Fields))
	seen := map[string]bool{}
	for i, f := range in.Fields {
		l, err := cleanText("fields", "label", f.Label, 100)
		ok := err == nil && fieldKeyRe.MatchString(f.Key)
		switch f.Type {
		case "number", "text":
			ok = ok && f.Indicator == ""
		case "indicator":
			ok = ok && slices.Contains(IndicatorNames, f.Indicator)
		default:
			ok = false
		}
		if !ok {
			return nil, errs.Field("fields", msgBadField)
		}
		if seen[f.Key] {
			return nil, errs.Field("fields", msgDupField, f.Key)
		}
		seen[f.Key] = true
		fields[i] = Field{Key: strings.Clone(f.Key), Label: l, Type: strings.Clone(f.Type), Indicator: strings.Clone(f.Indicator)}
	}
	r.Fields = mustJSON(fields)
	ts, err := s.assigned(ctx, pref, in.All, in.Counties)
	if err != nil {
		return nil, err
	}
	slugs, err := s.insertAssigned(ctx, r, r.ID, ts)
	if err != nil {
		return nil, err
	}
	t := r.template()
	t.Counties = slugs
	return &t, s.gate.AuditTenant(ctx, "guidance.template.create", r.ID, map[string]any{"title": r.Title, "counties": t.Counties})
}

// Templates lists the prefecture's templates, newest first.
func (s *Service) Templates(ctx context.Context) ([]Template, error) {
	if _, err := asPrefecture(ctx, false); err != nil {
		return nil, err
	}
	out := []Template{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []templateRow
		if err := db.NewSelect().Model(&rows).Where("NOT archived").OrderExpr("created_at DESC, id").Limit(200).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.template())
		}
		return nil
	})
	return out, err
}

// parsePeriod reads a month "2026-11" that has begun by now (China time).
func parsePeriod(p string, now time.Time) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01", p, chinaTime)
	if err != nil || len(p) != 7 || t.After(now.In(chinaTime)) {
		return time.Time{}, errs.Field("period", msgBadPeriod)
	}
	return t, nil
}

// LastPeriod is the month before now's (China time): the month a report is usually due for.
func LastPeriod(now time.Time) string {
	n := now.In(chinaTime)
	return time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, chinaTime).AddDate(0, -1, 0).Format("2006-01")
}

// dueOf is when a month's report is due: day dueDay of the next month, end of day.
func dueOf(month time.Time, dueDay int) time.Time {
	return time.Date(month.Year(), month.Month()+1, dueDay, 23, 59, 59, 0, chinaTime)
}

// ReportStatus is a template with each addressed county's report of a period.
type ReportStatus struct {
	Template
	Period  string         `json:"period"`
	DueAt   time.Time      `json:"due_at"`
	Reports []CountyReport `json:"reports"`
	Missing int            `json:"missing"`
}

// CountyReport is one county's report of the period, or its absence.
type CountyReport struct {
	County      string      `json:"county"`
	Name        string      `json:"name"`
	Submission  *Submission `json:"submission"`
	Overdue     bool        `json:"overdue"`
	Unavailable bool        `json:"unavailable,omitempty"`
}

// ReportStatus reads a template of the prefecture of ctx and, through the channel, each
// addressed county's report of period: who submitted, who is missing, who is late.
func (s *Service) ReportStatus(ctx context.Context, id, period string) (*ReportStatus, error) {
	pref, err := asPrefecture(ctx, false)
	if err != nil {
		return nil, err
	}
	if id, err = checkID("id", id); err != nil {
		return nil, err
	}
	now := s.now()
	if period == "" {
		period = LastPeriod(now)
	}
	month, err := parsePeriod(period, now)
	if err != nil {
		return nil, err
	}
	var t Template
	var ids []string
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		r := new(templateRow)
		if err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, msgNoTemplate)
		}
		t = r.template()
		return db.NewSelect().Model((*targetRow)(nil)).Column("county_id").Where("item_id = ?", id).Scan(ctx, &ids)
	})
	if err != nil {
		return nil, err
	}
	cs, err := s.addressed(ctx, pref, false, ids)
	if err != nil {
		return nil, err
	}
	st := &ReportStatus{Template: t, Period: period, DueAt: dueOf(month, t.DueDay).UTC(), Reports: []CountyReport{}}
	for _, c := range cs {
		st.Counties = append(st.Counties, c.Slug)
		cr := CountyReport{County: c.Slug, Name: c.NameZH}
		err := s.Channel.FromCounty(ctx, c, "report "+id+" "+period, func(ctx context.Context, db bun.IDB) error {
			r := new(submissionRow)
			err := db.NewSelect().Model(r).Where("template_id = ? AND period = ?", id, period).Scan(ctx)
			if err == nil {
				cr.Submission = r.submission()
			}
			return notFound(err, msgNoTemplate)
		})
		switch {
		case err == nil, errs.Is(err, errs.NotFound):
		case errs.CodeOf(err) == errs.Internal:
			return nil, err
		default:
			cr.Unavailable = true
		}
		if cr.Submission == nil {
			st.Missing++
			cr.Overdue = now.After(st.DueAt)
		}
		st.Reports = append(st.Reports, cr)
	}
	return st, nil
}

// ReportForm is a template as a county fills it for a period: the values it submitted, or the
// pre-filled ones.
type ReportForm struct {
	Template
	Period     string            `json:"period"`
	DueAt      time.Time         `json:"due_at"`
	Values     map[string]string `json:"values"`
	Submission *Submission       `json:"submission"`
}

// MyReports lists the templates addressed to the county of ctx, each with its report of the
// last month (submitted or not).
func (s *Service) MyReports(ctx context.Context) ([]ReportForm, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	ts, err := s.myTemplates(ctx, "")
	if err != nil {
		return nil, err
	}
	period := LastPeriod(s.now())
	month, _ := time.ParseInLocation("2006-01", period, chinaTime)
	out := make([]ReportForm, len(ts))
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for i, t := range ts {
			out[i] = ReportForm{Template: t, Period: period, DueAt: dueOf(month, t.DueDay).UTC()}
			r := new(submissionRow)
			err := db.NewSelect().Model(r).Where("template_id = ? AND period = ?", t.ID, period).Scan(ctx)
			if err == nil {
				out[i].Submission = r.submission()
			} else if err = notFound(err, msgNoTemplate); !errs.Is(err, errs.NotFound) {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) myTemplates(ctx context.Context, only string) ([]Template, error) {
	out := []Template{}
	err := s.Channel.FromPrefecture(ctx, "templates", func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, county uuid.UUID) error {
		var rows []templateRow
		cond, args := addressedTo(county, false)
		q := db.NewSelect().Model(&rows).Where(cond, args...).Where("NOT i.archived").OrderExpr("i.created_at DESC, i.id").Limit(200)
		if only != "" {
			q = q.Where("i.id = ?", only)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.template())
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return out, nil
	}
	return out, err
}

// ReportForm reads a template addressed to the county of ctx for period (empty: last month),
// with the county's submission or values pre-filled from its own indicators.
func (s *Service) ReportForm(ctx context.Context, id, period string) (*ReportForm, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	id, err := checkID("id", id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if period == "" {
		period = LastPeriod(now)
	}
	month, err := parsePeriod(period, now)
	if err != nil {
		return nil, err
	}
	ts, err := s.myTemplates(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errs.E(errs.NotFound, msgNoTemplate)
	}
	f := &ReportForm{Template: ts[0], Period: period, DueAt: dueOf(month, ts[0].DueDay).UTC(), Values: map[string]string{}}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		r := new(submissionRow)
		err := db.NewSelect().Model(r).Where("template_id = ? AND period = ?", id, period).Scan(ctx)
		if err == nil {
			f.Submission = r.submission()
		}
		if err = notFound(err, msgNoTemplate); errs.Is(err, errs.NotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.Submission != nil {
		f.Values = f.Submission.Values
		return f, nil
	}
	var figures map[string]int64
	for _, fl := range f.Fields {
		if fl.Type != "indicator" || s.ind == nil {
			continue
		}
		if figures == nil {
			if figures, err = s.ind.Monthly(ctx, month.Year(), month.Month()); err != nil {
				return nil, err
			}
		}
		f.Values[fl.Key] = strconv.FormatInt(figures[fl.Indicator], 10)
	}
	return f, nil
}

// SubmitReport records the county's report of period for a template addressed to it; a report
// submitted again replaces the earlier one (until the prefecture's deadline and after it, late).
func (s *Service) SubmitReport(ctx context.Context, id, period string, values map[string]string) (*ReportForm, error) {
	if _, err := asCounty(ctx, true); err != nil {
		return nil, err
	}
	f, err := s.ReportForm(ctx, id, period)
	if err != nil {
		return nil, err
	}
	clean := map[string]string{}
	for k := range values {
		if !slices.ContainsFunc(f.Fields, func(x Field) bool { return x.Key == k }) {
			return nil, errs.Field("values", msgUnknownValue, safeKey(k))
		}
	}
	for _, fl := range f.Fields {
		v := strings.TrimSpace(values[fl.Key])
		switch fl.Type {
		case "text":
			if !okText(v, 5000) {
				return nil, errs.Field("values."+fl.Key, msgBadValue, fl.Label, "text")
			}
		default:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n < 0 || n > 1e12 || len(v) > 20 {
				return nil, errs.Field("values."+fl.Key, msgBadValue, fl.Label, "number")
			}
		}
		clean[fl.Key] = strings.Clone(v)
	}
	r := &submissionRow{TemplateID: f.ID, Period: f.Period, Values: mustJSON(clean), SubmittedBy: actor(ctx), SubmittedMS: ms(s.now())}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(r).On("CONFLICT (template_id, period) DO UPDATE").
			Set(`"values" = EXCLUDED."values", submitted_by = EXCLUDED.submitted_by, submitted_at = EXCLUDED.submitted_at`).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "guidance.report.submit", f.ID, map[string]string{"period": f.Period}); err != nil {
		return nil, err
	}
	f.Submission, f.Values = r.submission(), clean
	return f, nil
}

func safeKey(k string) string {
	if fieldKeyRe.MatchString(k) {
		return k
	}
	return "?"
}
