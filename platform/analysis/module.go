package analysis

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// Entitlement is the plan module code that unlocks the analysis.
const Entitlement = "analysis"

//go:embed templates/*.html openapi.json migrations
var files embed.FS

// Classes names the problem classes findings mention (catalog.Service).
type Classes interface {
	FindClasses(ctx context.Context, f catalog.ClassFilter) ([]catalog.Class, error)
}

// Module is the analysis's registration: its API (/analysis), its page and its thresholds'
// table. Plans sell it; members and the prefecture read it, the tenant's admins set thresholds.
func Module(s *Service, classes Classes) module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "analysis",
		Entitlement: Entitlement,
		Title:       msgTitle.ID(),
		Templates:   tpl,
		Migrations:  migs,
		OpenAPI:     api,
		Nav:         []module.Nav{{Path: "/analysis", Label: "analysis.nav"}},
		Build: func(k module.Kit) (module.Parts, error) {
			h := &handlers{s: s, classes: classes, k: k}
			admin := module.NeedRole(tenants.TenantAdmin)
			return module.Parts{
				API: func(r module.Router) {
					r.Get("/analysis", h.apiReport)
					r.Get("/analysis/settings", h.apiSettings)
					r.Put("/analysis/settings", admin, h.apiPutSettings)
				},
				Console: func(r module.Router) {
					r.Get("/analysis", h.page)
					r.Post("/analysis/settings", admin, h.putSettingsForm)
				},
			}, nil
		},
	}
}

type handlers struct {
	s       *Service
	classes Classes
	k       module.Kit
}

// Said is a finding as a person reads it: its sentence in their language, with its evidence.
type Said struct {
	Finding
	Text string `json:"text"`
	Href string `json:"href"`
}

// say writes each finding's sentence in lang, and the link to its cases under base.
func (h *handlers) say(ctx context.Context, r *Report, lang, base string) []Said {
	classes := map[string]string{}
	if cls, err := h.classes.FindClasses(ctx, catalog.ClassFilter{}); err == nil {
		for _, cl := range cls {
			n := cl.NameZH
			if lang == msg.EN && cl.NameEN != "" {
				n = cl.NameEN
			}
			classes[string(cl.Kind)+"/"+cl.Code] = n
		}
	}
	name := func(k string, m map[string]string) string {
		if n := m[k]; n != "" {
			return n
		}
		return k
	}
	out := make([]Said, 0, len(r.Findings))
	for _, f := range r.Findings {
		s := Said{Finding: f, Href: base + "/cases?" + f.Cases.Encode()}
		class := name(f.Subject["class"], classes)
		e := f.Evidence
		switch f.Kind {
		case HotSpot:
			if e["ratio"].(float64) == 0 {
				s.Text = msgHotSpotNew.In(lang, name(f.Subject["grid"], r.Names), class, e["count"], e["days"], e["windows"])
			} else {
				s.Text = msgHotSpot.In(lang, name(f.Subject["grid"], r.Names), class, e["count"], e["days"], e["baseline_mean"], e["ratio"])
			}
		case Recurring:
			place := f.Subject["place"]
			if g := f.Subject["grid"]; g != "" {
				place = name(g, r.Names) + " " + place
			}
			s.Text = msgRecurring.In(lang, place, class, e["count"], e["days"], e["meters"])
		case OverdueRising:
			var parts []string
			for _, v := range e["shares"].([]float64) {
				parts = append(parts, strconv.FormatFloat(v, 'f', 1, 64)+"%")
			}
			s.Text = msgOverdueRising.In(lang, name(f.Subject["department"], r.Names), strings.Join(parts, " → "), e["months"])
		case SeasonalPeak:
			s.Text = msgSeasonal.In(lang, class, f.Subject["month"], e["count"], e["ratio"], f.Subject["coming"])
		}
		out = append(out, s)
	}
	return out
}

// apiReport is GET /analysis: the findings, each with its sentence (Accept-Language), evidence
// and the case list's filter behind it; the kinds the history is too short for.
func (h *handlers) apiReport(c *fiber.Ctx) error {
	r, err := h.s.Analyse(c.UserContext())
	if err != nil {
		return err
	}
	lang := module.APILang(c)
	short := map[Kind]string{}
	for k, months := range r.Short {
		short[k] = msgShort.In(lang, msg.TextOf(lang, "analysis.kind."+string(k)), months)
	}
	return c.JSON(fiber.Map{"at": r.At, "settings": r.Settings, "findings": h.say(c.UserContext(), r, lang, "/t/"+module.Scope(c).Tenant.Slug), "short": short})
}

func (h *handlers) apiSettings(c *fiber.Ctx) error {
	s, err := h.s.Settings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(s)
}

// apiPutSettings is PUT /analysis/settings (tenant admin): every threshold, checked.
func (h *handlers) apiPutSettings(c *fiber.Ctx) error {
	var in Settings
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	out, err := h.s.PutSettings(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// settingField is one threshold of the form.
type settingField struct {
	Name, Label, Value string
}

// page shows the findings by kind, each sentence linking to its cases, and (for admins) the
// thresholds' form.
func (h *handlers) page(c *fiber.Ctx) error {
	r, err := h.s.Analyse(c.UserContext())
	if err != nil {
		return err
	}
	lang := h.k.Pages.Lang(c)
	base := "/t/" + module.Scope(c).Tenant.Slug
	said := h.say(c.UserContext(), r, lang, base)
	type group struct {
		Kind  Kind
		Title string
		Items []Said
		Short string
	}
	var groups []group
	for _, k := range Kinds {
		g := group{Kind: k, Title: msg.TextOf(lang, "analysis.kind."+string(k))}
		for _, s := range said {
			if s.Kind == k {
				g.Items = append(g.Items, s)
			}
		}
		if months, ok := r.Short[k]; ok {
			g.Short = msgShort.In(lang, g.Title, months)
		}
		groups = append(groups, g)
	}
	data := fiber.Map{"Groups": groups, "None": len(said) == 0, "NoneText": msg.TextOf(lang, msgNoFindings.ID()), "Base": base}
	sc := module.Scope(c)
	if !sc.ReadOnly && sc.Has(tenants.TenantAdmin) {
		data["Settings"] = settingFields(lang, r.Settings)
	}
	return h.k.Pages.Render(c, "analysis/analysis", data)
}

// settingFields lists the thresholds for the form, by their JSON names.
func settingFields(lang string, s Settings) []settingField {
	var out []settingField
	v, t := reflect.ValueOf(s), reflect.TypeOf(s)
	for i := range t.NumField() {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		out = append(out, settingField{Name: name, Label: msg.TextOf(lang, "analysis.setting."+name), Value: fmt.Sprint(v.Field(i).Interface())})
	}
	return out
}

// putSettingsForm sets the thresholds from the page's form (tenant admin).
func (h *handlers) putSettingsForm(c *fiber.Ctx) error {
	s := DefaultSettings()
	v := reflect.ValueOf(&s).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		raw := strings.TrimSpace(c.FormValue(name))
		if raw == "" {
			continue
		}
		switch v.Field(i).Kind() {
		case reflect.Int:
			n, err := strconv.Atoi(raw)
			if err != nil {
				n = -1 // not a number: refused by Check, which names the range
			}
			v.Field(i).SetInt(int64(n))
		case reflect.Float64:
			f, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				f = math.NaN() // not a number: refused by Check, which names the range
			}
			v.Field(i).SetFloat(f)
		}
	}
	if _, err := h.s.PutSettings(c.UserContext(), s); err != nil {
		return err
	}
	return c.Redirect("/t/"+module.Scope(c).Tenant.Slug+"/analysis?done=analysis.saved", fiber.StatusSeeOther)
}
