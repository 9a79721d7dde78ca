package evaluation

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

type handlers struct {
	s         *Service
	classes   Classes
	cases     Cases
	bulletins *Bulletins
	k         module.Kit
}

// period reads the period of a request: ?period=2026-05 | 2026-Q2 | 2026, or ?from=&to= dates;
// the current month without either.
func (h *handlers) period(c *fiber.Ctx) (Period, error) {
	return ParsePeriod(c.Query("period"), c.Query("from"), c.Query("to"), h.k.Now())
}

// object reads ?object=, def when absent.
func object(c *fiber.Ctx, def Object) (Object, error) {
	o := Object(c.Query("object", string(def)))
	if _, ok := Definitions[o]; !ok {
		return "", errs.Field("object", msgUnknownObject, string(o))
	}
	return o, nil
}

// csvFormat reports whether ?format= asks for CSV (json by default).
func csvFormat(c *fiber.Ctx) (bool, error) {
	switch f := c.Query("format", "json"); f {
	case "json":
		return false, nil
	case "csv":
		return true, nil
	default:
		return false, errs.Field("format", msgFormat, f)
	}
}

// apiReport is GET /evaluation: the period's figures with their trends, or one object's ranking
// as CSV (?format=csv&object=departments).
func (h *handlers) apiReport(c *fiber.Ctx) error {
	p, err := h.period(c)
	if err != nil {
		return err
	}
	asCSV, err := csvFormat(c)
	if err != nil {
		return err
	}
	o, err := object(c, Departments)
	if err != nil {
		return err
	}
	r, err := h.s.Compare(c.UserContext(), p)
	if err != nil {
		return err
	}
	if !asCSV {
		return c.JSON(r)
	}
	return sendCSV(c, "evaluation-"+string(o)+"-"+p.Name+".csv", rankingCSV(r.Rankings[o], module.APILang(c)))
}

// apiBehind is GET /evaluation/cases: the cases behind one count of one row.
func (h *handlers) apiBehind(c *fiber.Ctx) error {
	p, err := h.period(c)
	if err != nil {
		return err
	}
	asCSV, err := csvFormat(c)
	if err != nil {
		return err
	}
	b, err := h.behind(c, p)
	if err != nil {
		return err
	}
	if !asCSV {
		return c.JSON(b)
	}
	rows := [][]string{{"number", "state", "source", "kind", "class_code", "address", "created_at", "id"}}
	for _, cs := range b.Cases {
		rows = append(rows, []string{cs.Number, cs.State, cs.Source, cs.Kind, cs.ClassCode, cs.Address, cs.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), cs.ID})
	}
	return sendCSV(c, "evaluation-cases-"+p.Name+".csv", rows)
}

// behind reads which figure a request asks the cases of (?object=&key=&count=) and lists them.
func (h *handlers) behind(c *fiber.Ctx, p Period) (*Behind, error) {
	o, err := object(c, "")
	if err != nil {
		return nil, err
	}
	return h.s.CasesBehind(c.UserContext(), p, o, c.Query("key"), c.Query("count"))
}

// apiUnits is GET /evaluation/units: the units below the tenant (a prefecture's counties) side
// by side, ranked under the tenant's scheme; empty for a county.
func (h *handlers) apiUnits(c *fiber.Ctx) error {
	p, err := h.period(c)
	if err != nil {
		return err
	}
	cmp, err := h.compareUnits(c, p)
	if err != nil {
		return err
	}
	return c.JSON(cmp)
}

// compareUnits compares the units the caller reads below the tenant of c (a prefecture's
// counties), auditing each read as the tenant scope middleware does.
func (h *handlers) compareUnits(c *fiber.Ctx, p Period) (*Comparison, error) {
	ctx, path := c.UserContext(), c.Path()
	scopes, err := h.k.Store.ReadableUnder(ctx, module.Principal(c), module.Scope(c).Tenant)
	if err != nil {
		return nil, err
	}
	return h.s.CompareUnits(ctx, scopes, p, func(ctx context.Context, sc *tenants.Scope) error {
		return h.k.Store.AuditCrossRead(ctx, sc, fiber.MethodGet, path)
	})
}

// apiSchemes is GET /evaluation/schemes: the scheme in force today, every scheme set, and the
// default weights.
func (h *handlers) apiSchemes(c *fiber.Ctx) error {
	list, current, err := h.s.Schemes(c.UserContext())
	if err != nil {
		return err
	}
	defaults := map[Object]map[string]float64{}
	for _, o := range Objects {
		defaults[o] = Definitions[o].Weights
	}
	return c.JSON(fiber.Map{"current": current, "schemes": list, "defaults": defaults})
}

// apiPutScheme is POST /evaluation/schemes (tenant admin): a new scheme from its day on.
func (h *handlers) apiPutScheme(c *fiber.Ctx) error {
	var in SchemeInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	sc, err := h.s.PutScheme(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sc)
}

// rankingCSV is a ranking as CSV rows: rank, key, name, score, then every indicator's value (in
// percent) and every count, headed by their names in lang.
func rankingCSV(rk *Ranking, lang string) [][]string {
	def := Definitions[rk.Object]
	head := []string{label(lang, "evaluation.page.rank"), "key", label(lang, "evaluation.page.name"), label(lang, "evaluation.page.score")}
	for _, ind := range def.Indicators {
		head = append(head, label(lang, "evaluation.indicator."+ind.ID)+" (%)")
	}
	for _, n := range def.Counts {
		head = append(head, label(lang, "evaluation.count."+n))
	}
	rows := [][]string{head}
	for _, r := range rk.Rows {
		line := []string{strconv.Itoa(r.Rank), r.Key, r.Name, number(r.Score, 1)}
		for _, ind := range def.Indicators {
			line = append(line, number(r.Values[ind.ID], 100))
		}
		for _, n := range def.Counts {
			line = append(line, strconv.FormatInt(r.Counts[n], 10))
		}
		rows = append(rows, line)
	}
	return rows
}

// number is *v × scale with two decimals, "" when absent.
func number(v *float64, scale float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v*scale, 'f', 2, 64)
}

// sendCSV answers rows as a CSV download in UTF-8 with a byte order mark, which Excel needs to
// read Chinese text.
func sendCSV(c *fiber.Ctx, name string, rows [][]string) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(buf.Bytes())
}
