package evaluation

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Bulletin is one published version of a tenant's evaluation bulletin (评价通报) of a month or a
// quarter: the figures it was made from and its two documents, XLSX and PDF, with their SHA-256.
// A published version never changes (the table refuses it); publishing the period again makes
// the next version. Lists leave the documents out (BulletinFile reads one).
type Bulletin struct {
	bun.BaseModel `bun:"table:evaluation_bulletins"`

	ID          string    `bun:"id,pk" json:"id"`
	Period      string    `bun:"period" json:"period"`
	Kind        string    `bun:"kind" json:"kind"`
	Version     int       `bun:"version" json:"version"`
	PublishedAt time.Time `bun:"published_at" json:"published_at"`
	PublishedBy string    `bun:"published_by" json:"published_by"`
	Figures     string    `bun:"figures" json:"-"`
	XLSX        []byte    `bun:"xlsx" json:"-"`
	XLSXSHA256  string    `bun:"xlsx_sha256" json:"xlsx_sha256"`
	PDF         []byte    `bun:"pdf" json:"-"`
	PDFSHA256   string    `bun:"pdf_sha256" json:"pdf_sha256"`
}

// Bulletin kinds.
const (
	KindMonth   = "month"
	KindQuarter = "quarter"
)

// BulletinContent is what a bulletin says: the tenant's figures of the period and, for a
// prefecture, its counties side by side. It is kept with the bulletin (as JSON) and is what its
// documents are made from.
type BulletinContent struct {
	Tenant      string    `json:"tenant"`
	TenantSlug  string    `json:"tenant_slug"`
	Version     int       `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	Figures     *Figures  `json:"figures"`
	// ClassNames names the top classes (kind/code → 名称) as the catalogue had them.
	ClassNames map[string]string `json:"class_names,omitempty"`
	Units      *Comparison       `json:"units,omitempty"`
}

// Bulletins publishes and keeps the evaluation bulletins of the tenant in ctx.
type Bulletins struct {
	s       *Service
	classes Classes
	font    string
}

// NewBulletins returns the bulletins of s's evaluations; classes (may be nil) names the top
// classes, font is the path of the TrueType CJK font the PDFs are set in.
func NewBulletins(s *Service, classes Classes, font string) *Bulletins {
	return &Bulletins{s: s, classes: classes, font: font}
}

// UnitsFunc compares the units below a prefecture over a period (Service.CompareUnits with the
// scopes the caller may read); nil for a county.
type UnitsFunc func(ctx context.Context, p Period) (*Comparison, error)

// BulletinPeriod reads the period of a bulletin: a month ("2026-05") or a quarter ("2026-Q2")
// that has begun by now.
func BulletinPeriod(name string, now time.Time) (Period, string, error) {
	var kind string
	switch {
	case monthRe.MatchString(name):
		kind = KindMonth
	case quarterRe.MatchString(name):
		kind = KindQuarter
	default:
		return Period{}, "", errs.Field("period", msgBulletinPeriod, name)
	}
	p, err := ParsePeriod(name, "", "", now)
	if err != nil {
		return Period{}, "", errs.Field("period", msgBulletinPeriod, name)
	}
	if !p.From.Before(now) {
		return Period{}, "", errs.Field("period", msgBulletinFuture, name)
	}
	return p, kind, nil
}

// Publish makes the bulletin of the period named (BulletinPeriod) for the tenant in ctx and
// keeps it as the period's next version; units adds a prefecture's counties. The figures are
// counted as of now for a period still running. Audited ("evaluation.bulletin"). Without the
// PDF font it refuses (unavailable, naming the font) before counting anything; a publication of
// the same period made meanwhile makes it a conflict (publish again for the version after).
func (b *Bulletins) Publish(ctx context.Context, name string, units UnitsFunc) (*Bulletin, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		return nil, errs.E(errs.Internal, msgNoTenantScope)
	}
	now := b.s.now()
	p, kind, err := BulletinPeriod(name, now)
	if err != nil {
		return nil, err
	}
	font, err := b.readFont()
	if err != nil {
		return nil, err
	}
	f, err := b.s.Evaluate(ctx, p)
	if err != nil {
		return nil, err
	}
	content := &BulletinContent{Tenant: sc.Tenant.NameZH, TenantSlug: sc.Tenant.Slug, PublishedAt: now, Figures: f}
	if b.classes != nil && len(f.TopClasses) > 0 {
		cls, err := b.classes.FindClasses(ctx, catalog.ClassFilter{})
		if err != nil {
			return nil, err
		}
		content.ClassNames = map[string]string{}
		for _, cl := range cls {
			content.ClassNames[string(cl.Kind)+"/"+cl.Code] = cl.NameZH
		}
	}
	if units != nil {
		if content.Units, err = units(ctx, p); err != nil {
			return nil, err
		}
	}
	by := "system"
	if pr := tenants.PrincipalFrom(ctx); pr != nil && pr.Identity != nil {
		by = pr.Identity.Email
	}
	bl := &Bulletin{ID: uuid.NewString(), Period: p.Name, Kind: kind, PublishedAt: now, PublishedBy: by}
	// The documents are made between a read of the last version and the insert of the next, not
	// inside the write: a publication of the same period in between makes the insert a conflict.
	var last int
	if err := b.s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT COALESCE(max(version), 0) FROM evaluation_bulletins WHERE period = ?", p.Name).Scan(ctx, &last)
	}); err != nil {
		return nil, err
	}
	bl.Version, content.Version = last+1, last+1
	js, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	bl.Figures = string(js)
	if bl.XLSX, err = bulletinXLSX(content); err != nil {
		return nil, fmt.Errorf("bulletin xlsx: %w", err)
	}
	if bl.PDF, err = bulletinPDF(content, font); err != nil {
		return nil, fmt.Errorf("bulletin pdf: %w", err)
	}
	bl.XLSXSHA256, bl.PDFSHA256 = digest(bl.XLSX), digest(bl.PDF)
	if err := b.s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(bl).Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return nil, err
	}
	detail := map[string]any{"period": bl.Period, "version": bl.Version, "xlsx_sha256": bl.XLSXSHA256, "pdf_sha256": bl.PDFSHA256}
	if err := b.s.gate.AuditTenant(ctx, "evaluation.bulletin", bl.ID, detail); err != nil {
		return nil, err
	}
	bl.XLSX, bl.PDF, bl.Figures = nil, nil, ""
	return bl, nil
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readFont reads the PDF font, or refuses as unavailable naming the file.
func (b *Bulletins) readFont() ([]byte, error) {
	if b.font == "" {
		return nil, errs.E(errs.Unavailable, msgBulletinNoFont)
	}
	font, err := os.ReadFile(b.font)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil, errs.E(errs.Unavailable, msgBulletinFont, b.font)
	}
	return font, err
}

// bulletinColumns are the columns of a bulletin without its figures and documents.
var bulletinColumns = []string{"id", "period", "kind", "version", "published_at", "published_by", "xlsx_sha256", "pdf_sha256"}

// FindBulletins lists the tenant's bulletins, the newest period first and its newest version
// first, without their documents.
func (b *Bulletins) FindBulletins(ctx context.Context) ([]Bulletin, error) {
	out := []Bulletin{}
	err := b.s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&out).Column(bulletinColumns...).
			OrderExpr("published_at DESC, period DESC, version DESC").Limit(500).Scan(ctx)
	})
	return out, err
}

// FindBulletinByID is one bulletin with its figures and documents.
func (b *Bulletins) FindBulletinByID(ctx context.Context, id string) (*Bulletin, error) {
	var out Bulletin
	err := b.s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&out).Where("id = ?", id).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, msgBulletinNotFound)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// published reports whether the tenant in ctx has a bulletin of the period named.
func (b *Bulletins) published(ctx context.Context, name string) (bool, error) {
	var n int
	err := b.s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT count(*) FROM evaluation_bulletins WHERE period = ?", name).Scan(ctx, &n)
	})
	return n > 0, err
}

// duePeriods are the periods whose bulletins are due at now: the month and the quarter that
// ended last.
func duePeriods(now time.Time) []string {
	month, quarter, _ := Containing(now)
	return []string{month.Previous().Name, quarter.Previous().Name}
}

// scheduleInterval is how often the schedule looks for bulletins due.
const scheduleInterval = time.Hour

// runSchedule publishes, every scheduleInterval, the bulletins due (duePeriods) of every active
// tenant whose plan has the evaluation and that has none of the period yet: each period once,
// whoever published it (a bulletin made on demand counts). A tenant that fails is logged and
// tried again at the next pass.
func (b *Bulletins) runSchedule(ctx context.Context, k module.Kit) {
	tasks.Every(ctx, scheduleInterval, func(ctx context.Context) { b.publishDue(ctx, k) })
}

func (b *Bulletins) publishDue(ctx context.Context, k module.Kit) {
	due := duePeriods(b.s.now())
	eachEntitled(ctx, k, "bulletins", func(tctx context.Context, t *tenants.Tenant) {
		var units UnitsFunc
		if t.Kind == tenants.Prefecture {
			units = b.systemUnits(k.Store, t)
		}
		for _, name := range due {
			done, err := b.published(tctx, name)
			if err == nil && !done {
				_, err = b.Publish(tctx, name, units)
			}
			if err != nil && !errs.Is(err, errs.Conflict) {
				k.Log.Error("bulletins: publishing", "tenant", t.Slug, "period", name, "err", err)
			}
		}
	})
}

// eachEntitled runs fn, in the system's scope of each, for every active tenant whose plan has
// the evaluation, one after the other until ctx ends; loop names the loop in the log.
func eachEntitled(ctx context.Context, k module.Kit, loop string, fn func(tctx context.Context, t *tenants.Tenant)) {
	ts, err := k.Store.FindTenants(ctx, tenants.TenantFilter{Status: tenants.StatusActive})
	if err != nil {
		k.Log.Error(loop+": listing tenants", "err", err)
		return
	}
	for _, t := range ts {
		if ctx.Err() != nil {
			return
		}
		if k.Entitled != nil {
			on, err := k.Entitled(ctx, t, Entitlement)
			if err != nil {
				k.Log.Error(loop+": entitlement", "tenant", t.Slug, "err", err)
				continue
			}
			if !on {
				continue
			}
		}
		fn(tenants.WithScope(ctx, tenants.SystemScope(t)), t)
	}
}

// systemUnits compares the prefecture t's counties as the schedule reads them: each read-only
// under the system's scope, unaudited (no one reads them; the bulletin's publication is audited).
func (b *Bulletins) systemUnits(store *tenants.Store, t *tenants.Tenant) UnitsFunc {
	return func(ctx context.Context, p Period) (*Comparison, error) {
		kids, err := store.Children(ctx, t)
		if err != nil {
			return nil, err
		}
		scopes := make([]*tenants.Scope, len(kids))
		for i, kid := range kids {
			sc := tenants.SystemScope(kid)
			sc.ReadOnly = true
			scopes[i] = sc
		}
		return b.s.CompareUnits(ctx, scopes, p, func(context.Context, *tenants.Scope) error { return nil })
	}
}
