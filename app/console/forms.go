package console

import (
	"net/url"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/gofiber/fiber/v2"
)

// LangCookie remembers the language a person chose with ?lang=.
const LangCookie = "cityops_lang"

// Lang picks the UI language: ?lang= (remembered in a cookie), then the cookie, then Chinese.
func Lang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "en" || l == "zh-CN" {
		c.Cookie(&fiber.Cookie{Name: LangCookie, Value: l, Path: "/", Expires: time.Now().Add(365 * 24 * time.Hour), SameSite: fiber.CookieSameSiteLaxMode})
		return l
	}
	if c.Cookies(LangCookie) == "en" {
		return "en"
	}
	return "zh-CN"
}

// Done redirects after a successful form (post/redirect/get) to target with a message key the
// next page shows.
func Done(c *fiber.Ctx, target, messageKey string) error {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return c.Redirect(target+sep+"done="+url.QueryEscape(messageKey), fiber.StatusSeeOther)
}

// FormError turns a failed form action into a message for the page, in the page's language, and
// sets the response status. Internal errors are returned as such, for the error page.
func FormError(c *fiber.Ctx, err error) (string, error) {
	code := errs.CodeOf(err)
	if code == errs.Internal {
		return "", err
	}
	c.Status(module.Status(code))
	l := Lang(c)
	sep := "："
	if l == "en" {
		sep = ": "
	}
	return Translate(l, "problem."+string(code)) + sep + errs.MessageIn(err, l), nil
}

// SafeNext keeps a post-login redirect on this site: a path, not //host or /\host, and without
// control characters (a browser drops tabs and line breaks from a URL, so /<tab>/host is //host).
// It returns "" for anything else.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ""
	}
	return next
}
