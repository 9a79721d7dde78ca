package evaluation

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Scheme is a weighting of the indicators, in force from a day (China time) until the next
// scheme's. Weights holds, per object, the weight of each indicator (percent); an object or an
// indicator it does not name keeps the default (Definitions). The default scheme has no ID.
type Scheme struct {
	bun.BaseModel `bun:"table:evaluation_schemes"`

	ID            string                        `bun:"id,pk" json:"id"`
	EffectiveFrom string                        `bun:"effective_from" json:"effective_from"`
	Weights       map[Object]map[string]float64 `bun:"weights,type:text,notnull" json:"weights"`
	Note          string                        `bun:"note" json:"note"`
	CreatedAt     time.Time                     `bun:"created_at" json:"created_at"`
	CreatedBy     string                        `bun:"created_by" json:"created_by"`
}

// DefaultScheme is the weighting of DOMAIN.md, in force until a tenant sets its own.
func DefaultScheme() Scheme {
	return Scheme{EffectiveFrom: "2000-01-01", Weights: map[Object]map[string]float64{}}
}

// weights are the weights of o's indicators under the scheme (the defaults for what it does not
// name).
func (s Scheme) weights(o Object) map[string]float64 {
	out := map[string]float64{}
	for id, w := range Definitions[o].Weights {
		out[id] = w
	}
	for id, w := range s.Weights[o] {
		if _, ok := out[id]; ok {
			out[id] = w
		}
	}
	return out
}

// Weights are the weights of o's indicators under the scheme.
func (s Scheme) WeightsOf(o Object) map[string]float64 { return s.weights(o) }

// weightsKey is the scheme's weights as a stable string (a cache key).
func (s Scheme) weightsKey() string {
	var b strings.Builder
	for _, o := range Objects {
		w := s.weights(o)
		ids := make([]string, 0, len(w))
		for id := range w {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			b.WriteString(id)
			b.WriteByte('=')
			b.WriteString(jsonNumber(w[id]))
			b.WriteByte(';')
		}
	}
	return b.String()
}

func jsonNumber(f float64) string {
	out, _ := json.Marshal(f)
	return string(out)
}

// SchemeInput is a new scheme: the day it takes effect (YYYY-MM-DD, China time) and its weights.
type SchemeInput struct {
	EffectiveFrom string                        `json:"effective_from"`
	Weights       map[Object]map[string]float64 `json:"weights"`
	Note          string                        `json:"note"`
}

// Check refuses an input naming an unknown object or indicator, a weight outside 0–100, an
// object whose weights are all zero, or a day that is not a date.
func (in SchemeInput) Check() error {
	if _, err := time.ParseInLocation(time.DateOnly, in.EffectiveFrom, clock.China); err != nil {
		return errs.Field("effective_from", msgNotDate, in.EffectiveFrom)
	}
	if len([]rune(in.Note)) > 500 {
		return errs.Field("note", msgNoteTooLong)
	}
	for o, ws := range in.Weights {
		def, ok := Definitions[o]
		if !ok {
			return errs.Field("weights", msgUnknownObject, string(o))
		}
		total := 0.0
		for id, w := range def.Weights {
			if x, ok := ws[id]; ok {
				w = x
			}
			total += w
		}
		for id, w := range ws {
			if !slices.ContainsFunc(def.Indicators, func(i Indicator) bool { return i.ID == id }) {
				return errs.Field("weights."+string(o), msgUnknownIndicator, id, string(o))
			}
			if math.IsNaN(w) || w < 0 || w > 100 {
				return errs.Field("weights."+string(o)+"."+id, msgWeightRange, id)
			}
		}
		if total <= 0 {
			return errs.Field("weights."+string(o), msgWeightsAllZero, string(o))
		}
	}
	return nil
}

// PutScheme records a new scheme for the tenant in ctx, in force from its day on. A scheme
// already starting that day is replaced (the old one stays in the audit log); schemes of earlier
// days keep counting the periods that start before it. Audited.
func (s *Service) PutScheme(ctx context.Context, in SchemeInput) (*Scheme, error) {
	if err := in.Check(); err != nil {
		return nil, err
	}
	by := "system"
	if p := tenants.PrincipalFrom(ctx); p != nil && p.Identity != nil {
		by = p.Identity.Email
	}
	sc := &Scheme{ID: uuid.NewString(), EffectiveFrom: in.EffectiveFrom, Weights: in.Weights, Note: in.Note, CreatedAt: s.now(), CreatedBy: by}
	if sc.Weights == nil {
		sc.Weights = map[Object]map[string]float64{}
	}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewDelete().Model((*Scheme)(nil)).Where("effective_from = ?", in.EffectiveFrom).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		_, err := db.NewInsert().Model(sc).Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "evaluation.scheme", in.EffectiveFrom, in); err != nil {
		return nil, err
	}
	return sc, nil
}

// Schemes lists the tenant's schemes, the newest day first, and the one in force today.
func (s *Service) Schemes(ctx context.Context) (list []Scheme, current Scheme, err error) {
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		list = []Scheme{}
		if err := db.NewSelect().Model(&list).OrderExpr("effective_from DESC").Scan(ctx); err != nil {
			return err
		}
		c, err := schemeAt(ctx, db, clock.StartOfDay(s.now()))
		if err != nil {
			return err
		}
		current = *c
		return nil
	})
	return list, current, err
}

// SchemeAt is the tenant's scheme in force on the day of t.
func (s *Service) SchemeAt(ctx context.Context, t time.Time) (*Scheme, error) {
	var out *Scheme
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		out, err = schemeAt(ctx, db, t)
		return err
	})
	return out, err
}

func schemeAt(ctx context.Context, db bun.IDB, t time.Time) (*Scheme, error) {
	var found []Scheme
	day := t.In(clock.China).Format(time.DateOnly)
	if err := db.NewSelect().Model(&found).Where("effective_from <= ?", day).OrderExpr("effective_from DESC").Limit(1).Scan(ctx); err != nil {
		return nil, err
	}
	if len(found) == 0 {
		d := DefaultScheme()
		return &d, nil
	}
	return &found[0], nil
}
