package notify

import (
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

type handlers struct {
	s *Service
	k module.Kit
}

// routes adds the API: every member reads and changes their own inbox and preferences (a
// read-only scope reads only); the tenant's admins read and change the settings.
func (h *handlers) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/notify/inbox", h.apiInbox)
	r.Get("/notify/unread", h.apiUnread)
	r.Post("/notify/inbox/read", h.apiReadAll)
	r.Post("/notify/inbox/:id/read", h.apiRead)
	r.Get("/notify/preferences", h.apiPreferences)
	r.Put("/notify/preferences", h.apiUpdatePreferences)
	r.Get("/notify/settings", admin, h.apiSettings)
	r.Put("/notify/settings", admin, h.apiUpdateSettings)
}

func (h *handlers) apiInbox(c *fiber.Ctx) error {
	f := InboxFilter{Unread: c.Query("unread") == "true", Limit: c.QueryInt("limit", 50)}
	if v := c.Query("unread"); v != "" && v != "true" && v != "false" {
		return errs.Field("unread", msgBadText, "unread", 5)
	}
	ns, err := h.s.FindInbox(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(ns)
}

func (h *handlers) apiUnread(c *fiber.Ctx) error {
	n, err := h.s.CountUnread(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unread": n})
}

func (h *handlers) apiRead(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	if id == "" || strings.ContainsRune(id, 0) {
		return errs.E(errs.Invalid, msgBadID)
	}
	if err := h.s.MarkRead(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *handlers) apiReadAll(c *fiber.Ctx) error {
	if err := h.s.MarkRead(c.UserContext(), ""); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *handlers) apiPreferences(c *fiber.Ctx) error {
	p, err := h.s.FindPreferences(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *handlers) apiUpdatePreferences(c *fiber.Ctx) error {
	var in struct {
		Channels map[string][]string `json:"channels"`
		Digest   bool                `json:"digest"`
	}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	p, err := h.s.UpdatePreferences(c.UserContext(), Preferences{Channels: in.Channels, Digest: in.Digest})
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (h *handlers) apiSettings(c *fiber.Ctx) error {
	st, err := h.s.FindSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// settingsInput is the body of PUT /notify/settings.
type settingsInput struct {
	QuietStart   int               `json:"quiet_start"`
	QuietEnd     int               `json:"quiet_end"`
	WarnMinutes  int               `json:"warn_minutes"`
	WeCom        bool              `json:"wecom"`
	SMTPHost     string            `json:"smtp_host"`
	SMTPPort     int               `json:"smtp_port"`
	SMTPTLS      string            `json:"smtp_tls"`
	SMTPUsername string            `json:"smtp_username"`
	SMTPFrom     string            `json:"smtp_from"`
	SMSSignName  string            `json:"sms_sign_name"`
	SMSTemplate  string            `json:"sms_template"`
	Templates    map[string]string `json:"templates"`
}

func (h *handlers) apiUpdateSettings(c *fiber.Ctx) error {
	in := settingsInput{QuietStart: 22 * 60, QuietEnd: 7 * 60, WarnMinutes: 120, SMTPTLS: "starttls"}
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.s.UpdateSettings(c.UserContext(), Settings{QuietStart: in.QuietStart, QuietEnd: in.QuietEnd, WarnMinutes: in.WarnMinutes,
		WeCom: in.WeCom, SMTPHost: in.SMTPHost, SMTPPort: in.SMTPPort, SMTPTLS: in.SMTPTLS, SMTPUsername: in.SMTPUsername,
		SMTPFrom: in.SMTPFrom, SMSSignName: in.SMSSignName, SMSTemplate: in.SMSTemplate, Templates: in.Templates})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// pages adds the console page /notify: the caller's inbox, with mark read.
func (h *handlers) pages(r module.Router) {
	r.Get("/notify", h.pageInbox)
	r.Post("/notify/read", h.pageRead)
}

func (h *handlers) pageInbox(c *fiber.Ctx) error {
	ns, err := h.s.FindInbox(c.UserContext(), InboxFilter{Limit: 100})
	if err != nil {
		return err
	}
	unread := 0
	for _, n := range ns {
		if n.ReadAt == nil {
			unread++
		}
	}
	l := h.k.Pages.Lang(c)
	return h.k.Pages.Render(c, "notify/inbox", fiber.Map{"Base": "/t/" + module.Scope(c).Tenant.Slug, "Notifications": ns, "Unread": unread,
		"UnreadText": msgPageUnread.In(l, unread), "Empty": msgPageEmpty.In(l), "MarkAll": msgPageMarkAll.In(l), "MarkRead": msgPageRead.In(l),
		"Kinds": kindTitles(l)})
}

func kindTitles(l string) map[string]string {
	out := map[string]string{}
	for k, m := range kinds {
		out[k] = m.In(l)
	}
	return out
}

func (h *handlers) pageRead(c *fiber.Ctx) error {
	id := strings.Clone(c.FormValue("id"))
	if strings.ContainsRune(id, 0) {
		return errs.E(errs.Invalid, msgBadID)
	}
	if err := h.s.MarkRead(c.UserContext(), id); err != nil {
		return err
	}
	sc := module.Scope(c)
	return c.Redirect("/t/"+sc.Tenant.Slug+"/notify", fiber.StatusSeeOther)
}
