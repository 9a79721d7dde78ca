package evaluation

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

func label(lang, id string) string { return msg.TextOf(lang, id) }

// cell is one figure of a page: its text and, for a count, the link to the cases behind it.
type cell struct {
	Text, Href string
}

// pageRow is a ranking's row as the page shows it.
type pageRow struct {
	Rank               int
	Key, Name, Href    string
	Score              string
	Previous, LastYear string
	Up, Down           bool
	Values, Counts     []cell
}

// pageRanking is one object's section.
type pageRanking struct {
	Object     Object
	Title      string
	Indicators []string // headings, with their weights
	Counts     []string
	Rows       []pageRow
}

// pct is a rate as a percentage with one decimal, "—" when absent.
func pct(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

func scoreText(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

// base is the tenant's console path.
func base(c *fiber.Ctx) string { return "/t/" + module.Scope(c).Tenant.Slug }

// periodQuery is the query naming p.
func periodQuery(p Period) url.Values {
	q := url.Values{}
	if from, to, ok := strings.Cut(p.Name, "~"); ok {
		q.Set("from", from)
		q.Set("to", to)
	} else {
		q.Set("period", p.Name)
	}
	return q
}

// page is the county's evaluation page: the period's totals against the previous period and last
// year, its sources and top problem classes, and every object's ranking with each component;
// every count links to the cases behind it.
func (h *handlers) page(c *fiber.Ctx) error {
	lang := h.k.Pages.Lang(c)
	// Q is set before the period is read: the page shows a refused period in its form.
	data := fiber.Map{"Base": base(c), "Q": c.Queries()}
	now := h.k.Now().In(clock.China)
	month, quarter, year := Containing(now)
	data["Quick"] = []Period{month, month.Previous(), quarter, year}
	p, err := h.period(c)
	if err != nil {
		return h.pageError(c, data, err)
	}
	data["Period"] = p
	if module.Scope(c).Tenant.Kind == tenants.Prefecture {
		return h.unitsPage(c, lang, p, data)
	}
	r, err := h.s.Compare(c.UserContext(), p)
	if err != nil {
		return h.pageError(c, data, err)
	}
	data["Report"] = r
	data["Rates"] = []cell{
		{Text: pct(Rate(r.Closed, r.Filed))}, {Text: pct(Rate(r.ClosedOnTime, r.Filed))},
		{Text: pct(Rate(r.Previous.Closed, r.Previous.Filed))}, {Text: pct(Rate(r.Previous.ClosedOnTime, r.Previous.Filed))},
		{Text: pct(Rate(r.YearBefore.Closed, r.YearBefore.Filed))}, {Text: pct(Rate(r.YearBefore.ClosedOnTime, r.YearBefore.Filed))},
	}
	var sources []cell
	for _, src := range []string{"inspector", "citizen", "hotline", "video", "sensor", "referral", "media"} {
		if n := r.Sources[src]; n > 0 {
			sources = append(sources, cell{Text: label(lang, "cases.source."+src), Href: strconv.FormatInt(n, 10)})
		}
	}
	data["Sources"] = sources
	names := map[string]string{}
	if cls, err := h.classes.FindClasses(c.UserContext(), catalog.ClassFilter{}); err == nil {
		for _, cl := range cls {
			n := cl.NameZH
			if lang == msg.EN && cl.NameEN != "" {
				n = cl.NameEN
			}
			names[string(cl.Kind)+"/"+cl.Code] = n
		}
	}
	var classes []cell
	for _, cc := range r.TopClasses {
		n := names[cc.Class]
		if n == "" {
			n = cc.Class
		}
		classes = append(classes, cell{Text: n, Href: strconv.FormatInt(cc.Count, 10)})
	}
	data["Classes"] = classes
	// Citizen satisfaction: the survey answers of the period (satisfaction.go).
	sat, err := h.s.Satisfaction(c.UserContext(), p)
	if err != nil {
		return h.pageError(c, data, err)
	}
	data["SatTotal"], data["SatRows"] = satisfactionCells(sat)
	// The heat map: each unit grid filled by the cases filed in it, opening them.
	heat, peak := map[string]int64{}, int64(0)
	for _, row := range r.Rankings[Grids].Rows {
		heat[row.Key] = row.Counts["filed"]
		peak = max(peak, row.Counts["filed"])
	}
	hq := periodQuery(p)
	hq.Set("object", string(Grids))
	hq.Set("count", "filed")
	data["Layers"] = []map[string]any{{"url": "/api/v1" + base(c) + "/grids.geojson?level=unit", "kind": "heat", "fit": true,
		"counts": heat, "max": peak, "link": base(c) + "/evaluation/cases?" + hq.Encode() + "&key={code}"}}
	var sections []pageRanking
	for _, o := range Objects {
		sections = append(sections, h.section(c, lang, p, r, o))
	}
	data["Sections"] = sections
	data["Scheme"] = r.Scheme
	data["SchemeText"] = label(lang, "evaluation.page.scheme_default")
	if r.Scheme.ID != "" {
		data["SchemeText"] = strings.Replace(label(lang, "evaluation.page.scheme_from"), "%s", r.Scheme.EffectiveFrom, 1)
	}
	sc := module.Scope(c)
	if !sc.ReadOnly && sc.Has(tenants.TenantAdmin) {
		data["Editor"] = h.schemeEditor(lang, r.Scheme, now)
	}
	if err := h.bulletinData(c, data, now); err != nil {
		return err
	}
	return h.k.Pages.Render(c, "evaluation/evaluation", data)
}

func (h *handlers) section(c *fiber.Ctx, lang string, p Period, r *Report, o Object) pageRanking {
	def, rk := Definitions[o], r.Rankings[o]
	s := pageRanking{Object: o, Title: label(lang, "evaluation.object."+string(o))}
	for _, ind := range def.Indicators {
		s.Indicators = append(s.Indicators, label(lang, "evaluation.indicator."+ind.ID)+" ("+strconv.FormatFloat(rk.Weights[ind.ID], 'f', -1, 64)+")")
	}
	for _, n := range def.Counts {
		s.Counts = append(s.Counts, label(lang, "evaluation.count."+n))
	}
	for _, row := range rk.Rows {
		pr := pageRow{Rank: row.Rank, Key: row.Key, Name: row.Name, Score: scoreText(row.Score)}
		if t, ok := r.Trends[o][row.Key]; ok {
			pr.Previous, pr.LastYear = scoreText(t.Previous), scoreText(t.YearBefore)
			if row.Score != nil && t.Previous != nil {
				pr.Up, pr.Down = *row.Score > *t.Previous, *row.Score < *t.Previous
			}
		}
		for _, ind := range def.Indicators {
			pr.Values = append(pr.Values, cell{Text: pct(row.Values[ind.ID])})
		}
		for _, n := range def.Counts {
			q := periodQuery(p)
			q.Set("object", string(o))
			q.Set("key", row.Key)
			q.Set("count", n)
			pr.Counts = append(pr.Counts, cell{Text: strconv.FormatInt(row.Counts[n], 10), Href: base(c) + "/evaluation/cases?" + q.Encode()})
		}
		s.Rows = append(s.Rows, pr)
	}
	return s
}

// pageError shows the page with the refusal (a bad period) instead of the figures.
func (h *handlers) pageError(c *fiber.Ctx, data fiber.Map, err error) error {
	if code := errs.CodeOf(err); code == errs.Internal || code == errs.Unavailable {
		return err
	}
	c.Status(module.Status(errs.CodeOf(err)))
	data["Error"] = errs.MessageIn(err, h.k.Pages.Lang(c))
	return h.k.Pages.Render(c, "evaluation/evaluation", data)
}

// behindPage lists the cases behind one figure, each linking to its case page.
func (h *handlers) behindPage(c *fiber.Ctx) error {
	lang := h.k.Pages.Lang(c)
	data := fiber.Map{"Base": base(c)}
	p, err := h.period(c)
	if err != nil {
		return err
	}
	b, err := h.behind(c, p)
	if err != nil {
		return err
	}
	o := b.Object
	data["Behind"], data["Max"] = b, maxBehind
	data["Title"] = label(lang, "evaluation.object."+string(o)) + " · " + label(lang, "evaluation.count."+b.Count)
	data["Back"] = base(c) + "/evaluation?" + periodQuery(p).Encode()
	return h.k.Pages.Render(c, "evaluation/cases", data)
}

// editorField is one weight of the scheme form.
type editorField struct {
	Name, Label string
	Value       float64
}

// editorGroup is one object's weights in the scheme form.
type editorGroup struct {
	Title  string
	Fields []editorField
}

func (h *handlers) schemeEditor(lang string, s Scheme, now time.Time) fiber.Map {
	var groups []editorGroup
	for _, o := range Objects {
		g := editorGroup{Title: label(lang, "evaluation.object."+string(o))}
		w := s.weights(o)
		for _, ind := range Definitions[o].Indicators {
			g.Fields = append(g.Fields, editorField{Name: "w." + string(o) + "." + ind.ID, Label: label(lang, "evaluation.indicator."+ind.ID), Value: w[ind.ID]})
		}
		groups = append(groups, g)
	}
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, clock.China)
	return fiber.Map{"Groups": groups, "From": next.Format(time.DateOnly)}
}

// putSchemeForm sets a new scheme from the page's form (tenant admin), then shows the page again.
func (h *handlers) putSchemeForm(c *fiber.Ctx) error {
	in := SchemeInput{EffectiveFrom: strings.TrimSpace(c.FormValue("effective_from")), Note: c.FormValue("note"), Weights: map[Object]map[string]float64{}}
	for _, o := range Objects {
		for _, ind := range Definitions[o].Indicators {
			name := "w." + string(o) + "." + ind.ID
			v := strings.TrimSpace(c.FormValue(name))
			if v == "" {
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return errs.Field(name, msgWeightRange, label(h.k.Pages.Lang(c), "evaluation.indicator."+ind.ID))
			}
			if in.Weights[o] == nil {
				in.Weights[o] = map[string]float64{}
			}
			in.Weights[o][ind.ID] = f
		}
	}
	if _, err := h.s.PutScheme(c.UserContext(), in); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/evaluation?done=evaluation.scheme.saved", fiber.StatusSeeOther)
}

// unitsPage is a prefecture's evaluation: its counties side by side under its common scheme, each
// county's name opening that county's evaluation and each count the cases behind it.
func (h *handlers) unitsPage(c *fiber.Ctx, lang string, p Period, data fiber.Map) error {
	cmp, err := h.compareUnits(c, p)
	if err != nil {
		return err
	}
	def := Definitions[Counties]
	var heads []string
	for _, ind := range def.Indicators {
		heads = append(heads, label(lang, "evaluation.indicator."+ind.ID)+" ("+strconv.FormatFloat(cmp.Weights[ind.ID], 'f', -1, 64)+")")
	}
	counts := []string{"reported", "filed", "closed", "closed_on_time", "inspector_reported"}
	var countHeads []string
	for _, n := range counts {
		if n == "reported" {
			countHeads = append(countHeads, label(lang, "evaluation.page.reported"))
			continue
		}
		countHeads = append(countHeads, label(lang, "evaluation.count."+n))
	}
	var rows []pageRow
	var sat []satisfactionCell
	for _, u := range cmp.Units {
		if u.Satisfaction != nil {
			sat = append(sat, satisfactionCell{Object: Counties, Name: u.Tenant.Name(lang), Surveyed: strconv.FormatInt(u.Satisfaction.Surveyed, 10),
				Average: avgText(u.Satisfaction.Average), SolvedRate: pct(u.Satisfaction.SolvedRate)})
		}
	}
	data["SatRows"] = sat
	var sup []supervisionCell
	for _, u := range cmp.Units {
		if u.Supervision != nil {
			sup = append(sup, supervisionCell{Key: u.Key, Name: u.Tenant.Name(lang), Scored: strconv.FormatInt(u.Supervision.Scored, 10), Average: avgText(u.Supervision.Average)})
		}
	}
	data["SupRows"] = sup
	for _, u := range cmp.Units {
		name := u.Tenant.Name(lang)
		pr := pageRow{Rank: u.Rank, Key: u.Key, Name: name, Href: "/t/" + u.Key + "/evaluation?" + periodQuery(p).Encode(), Score: scoreText(u.Score),
			Previous: scoreText(u.Trend.Previous), LastYear: scoreText(u.Trend.YearBefore)}
		if u.Unavailable {
			pr.Score = label(lang, "evaluation.page.unavailable")
		}
		if u.Score != nil && u.Trend.Previous != nil {
			pr.Up, pr.Down = *u.Score > *u.Trend.Previous, *u.Score < *u.Trend.Previous
		}
		for _, ind := range def.Indicators {
			pr.Values = append(pr.Values, cell{Text: pct(u.Values[ind.ID])})
		}
		for _, n := range counts {
			cl := cell{Text: strconv.FormatInt(u.Counts[n], 10)}
			if n != "reported" && !u.Unavailable {
				q := periodQuery(p)
				q.Set("object", string(Counties))
				q.Set("key", u.Key)
				q.Set("count", n)
				cl.Href = "/t/" + u.Key + "/evaluation/cases?" + q.Encode()
			}
			pr.Counts = append(pr.Counts, cl)
		}
		rows = append(rows, pr)
	}
	data["Units"] = pageRanking{Object: Counties, Title: label(lang, "evaluation.object.counties"), Indicators: heads, Counts: countHeads, Rows: rows}
	data["Comparison"] = cmp
	data["UnitsJSON"] = "/api/v1" + base(c) + "/evaluation/units?" + periodQuery(p).Encode()
	data["SchemeText"] = label(lang, "evaluation.page.scheme_default")
	if cmp.Scheme.ID != "" {
		data["SchemeText"] = strings.Replace(label(lang, "evaluation.page.scheme_from"), "%s", cmp.Scheme.EffectiveFrom, 1)
	}
	if err := h.bulletinData(c, data, h.k.Now()); err != nil {
		return err
	}
	return h.k.Pages.Render(c, "evaluation/units", data)
}

// bulletinData adds the tenant's bulletins to a page and, for a tenant admin, the period the
// publishing form suggests: the month before now.
func (h *handlers) bulletinData(c *fiber.Ctx, data fiber.Map, now time.Time) error {
	list, err := h.bulletins.FindBulletins(c.UserContext())
	if err != nil {
		return err
	}
	data["Bulletins"] = list
	if sc := module.Scope(c); !sc.ReadOnly && sc.Has(tenants.TenantAdmin) {
		n := now.In(clock.China)
		data["BulletinForm"] = Month(n.Year(), n.Month()).Previous().Name
		if r, ok := c.Locals(bulletinRefusal{}).(bulletinRefusal); ok {
			data["BulletinForm"], data["BulletinError"] = r.period, r.message
		}
	}
	return nil
}
