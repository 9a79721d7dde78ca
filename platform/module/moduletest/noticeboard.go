// Package moduletest holds Noticeboard, a complete small module the tests plug in through
// platform/module exactly as a real one is plugged in: API routes, a console page with a nav
// link, a meter of its own, a plan entitlement, a table of its own in every tenant (its
// migrations), texts in both languages, OpenAPI operations and demo data. Its notices are kept
// through the tenant gate, so isolation and the prefecture's read-only access hold for it as for
// any module. It is the shape a new module copies.
package moduletest

import (
	"context"
	"embed"
	"fmt"
	"github.com/cityops/cityops/internal/msg"
	"io"
	"io/fs"
	"strings"
	"time"
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

//go:embed templates/*.html openapi.json migrations
var files embed.FS

// The module's texts: its name, its nav link, its empty list.
var _ = msg.Define(
	msg.Text{ID: "noticeboard.title", ZH: "公告栏", EN: "Noticeboard"},
	msg.Text{ID: "noticeboard.nav", ZH: "公告", EN: "Notices"},
	msg.Text{ID: "noticeboard.empty", ZH: "暂无公告。", EN: "No notices yet."},
)

// Noticeboard is the module's registration.
func Noticeboard() module.Module {
	tpl, _ := fs.Sub(files, "templates")
	api, _ := files.ReadFile("openapi.json")
	migs, _ := fs.Sub(files, "migrations")
	return module.Module{
		Name:        "noticeboard",
		Entitlement: Entitlement,
		Title:       "noticeboard.title",
		Meters:      []string{MeterPosted},
		Templates:   tpl,
		Migrations:  migs,
		OpenAPI:     api,
		Nav:         []module.Nav{{Path: "/notices", Label: "noticeboard.nav"}},
		Commands:    []module.Command{{Use: "post <tenant> <text>", Short: "Post a notice in a tenant", Args: 2}},
		Build: func(k module.Kit) (module.Parts, error) {
			b := &board{k: k}
			return module.Parts{
				API: func(r module.Router) {
					r.Get("/notices", b.apiList)
					r.Post("/notices", module.NeedRole(tenants.TenantAdmin), b.apiPost)
				},
				Console: func(r module.Router) { r.Get("/notices", b.page) },
				Run: map[string]func(ctx context.Context, args []string, out io.Writer) error{
					"post": func(ctx context.Context, args []string, out io.Writer) error {
						t, err := k.Store.FindTenantBySlug(ctx, args[0])
						if err != nil {
							return err
						}
						n, err := b.post(tenants.WithScope(ctx, tenants.SystemScope(t)), args[1], "cli")
						if err != nil {
							return err
						}
						_, err = fmt.Fprintln(out, n.ID)
						return err
					},
				},
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
	bun.BaseModel `bun:"table:notices"`

	ID       string    `bun:"id,pk" json:"id"`
	Text     string    `bun:"text" json:"text"`
	PostedBy string    `bun:"posted_by" json:"posted_by"`
	PostedAt time.Time `bun:"posted_at" json:"posted_at"`
}

func (b *board) list(ctx context.Context) ([]Notice, error) {
	out := []Notice{}
	err := b.k.Store.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&out).OrderExpr("posted_at, id").Limit(500).Scan(ctx)
	})
	return out, err
}

// post stores a notice and records one unit of the module's meter for it.
func (b *board) post(ctx context.Context, text, by string) (*Notice, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 500 {
		return nil, errs.Field("text", msgNoticeNeedsCharactersText)
	}
	sc := tenants.ScopeFrom(ctx)
	n := &Notice{ID: uuid.NewString(), Text: text, PostedBy: by, PostedAt: b.k.Now().UTC()}
	err := b.k.Store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(n).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return n, b.k.Usage.Record(context.WithoutCancel(ctx), sc.Tenant.ID, MeterPosted, 1, "notice:"+n.ID)
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
