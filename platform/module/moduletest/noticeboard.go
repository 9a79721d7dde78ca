// Package moduletest holds Noticeboard, a complete small module the tests plug in through
// platform/module exactly as a real one is plugged in: API routes, a console page with a nav
// link, a meter of its own, a plan entitlement, texts in both languages, OpenAPI operations and
// demo data. Its notices are kept through the tenant gate (in the tenant's settings table), so
// isolation and the prefecture's read-only access hold for it as for any module.
//
// It is the template for a new module: copy its shape, not its storage (a real module brings its
// tables in its own migrations).
package moduletest

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The noticeboard's entitlement and meter.
const (
	Entitlement = "noticeboard"
	MeterPosted = "notices_posted"
)

//go:embed templates/*.html openapi.json
var files embed.FS

// Noticeboard is the module's registration.
func Noticeboard() module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	return module.Module{
		Name:        "noticeboard",
		Entitlement: Entitlement,
		Title:       "noticeboard.title",
		Meters:      []string{MeterPosted},
		Messages: map[string]map[string]string{
			"noticeboard.title": {"zh-CN": "公告栏", "en": "Noticeboard"},
			"noticeboard.nav":   {"zh-CN": "公告", "en": "Notices"},
			"noticeboard.empty": {"zh-CN": "暂无公告。", "en": "No notices yet."},
		},
		Templates: tpl,
		OpenAPI:   api,
		Nav:       []module.Nav{{Path: "/notices", Label: "noticeboard.nav"}},
		Build: func(k module.Kit) (module.Parts, error) {
			b := &board{k: k}
			return module.Parts{
				API: func(r module.Router) {
					r.Get("/notices", b.apiList)
					r.Post("/notices", module.NeedRole(tenants.TenantAdmin), b.apiPost)
				},
				Console: func(r module.Router) { r.Get("/notices", b.page) },
				Demo: func(ctx context.Context, t *tenants.Tenant) error {
					_, err := b.post(tenants.WithScope(ctx, tenants.SystemScope(t)), "欢迎使用公告栏。", "demo")
					return err
				},
			}, nil
		},
	}
}

type board struct{ k module.Kit }

// Notice is one posted notice.
type Notice struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	By   string `json:"by"`
}

const prefix = "noticeboard."

func (b *board) list(ctx context.Context) ([]Notice, error) {
	var rows []tenants.Setting
	err := b.k.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rows).Where("key LIKE ?", prefix+"%").OrderExpr("updated_at, key").Scan(ctx)
	})
	out := make([]Notice, 0, len(rows))
	for _, r := range rows {
		out = append(out, Notice{ID: strings.TrimPrefix(r.Key, prefix), Text: r.Value, By: r.UpdatedBy})
	}
	return out, err
}

// post stores a notice and records one unit of the module's meter for it.
func (b *board) post(ctx context.Context, text, by string) (*Notice, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 500 {
		return nil, errs.Field("text", "A notice needs 1 to 500 characters of text.")
	}
	sc := tenants.ScopeFrom(ctx)
	n := &Notice{ID: uuid.NewString()[:8], Text: text, By: by}
	err := b.k.Store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&tenants.Setting{Key: prefix + n.ID, Value: text, UpdatedAt: b.k.Now(), UpdatedBy: by}).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, b.k.Usage.Record(context.WithoutCancel(ctx), sc.Tenant.ID, MeterPosted, 1, fmt.Sprintf("notice:%s:%s", sc.Tenant.ID, n.ID))
}

func (b *board) apiList(c *fiber.Ctx) error {
	ns, err := b.list(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ns)
}

func (b *board) apiPost(c *fiber.Ctx) error {
	var in struct {
		Text string `json:"text"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	n, err := b.post(c.UserContext(), in.Text, tenants.PrincipalFrom(c.UserContext()).Identity.Email)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

func (b *board) page(c *fiber.Ctx) error {
	ns, err := b.list(c.UserContext())
	if err != nil {
		return err
	}
	return b.k.Pages.Render(c, "noticeboard/notices", fiber.Map{"Notices": ns})
}
