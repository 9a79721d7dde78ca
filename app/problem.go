package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/app/open311api"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/platform/open311"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// Problem is the RFC 9457 problem details body of every refused API request (module.Problem).
type Problem = module.Problem

// fromFiber turns fiber's own errors (unknown route, wrong method, body too large) into coded ones.
func fromFiber(fe *fiber.Error) error {
	switch fe.Code {
	case fiber.StatusNotFound:
		return errs.E(errs.NotFound, msgThereNothingAddress)
	case fiber.StatusMethodNotAllowed:
		return errs.E(errs.Invalid, msgMethodNotAllowedHere)
	case fiber.StatusRequestEntityTooLarge:
		return errs.E(errs.TooLarge, msgRequestBodyTooLarge)
	case fiber.StatusUnsupportedMediaType:
		return errs.E(errs.Unsupported, msgMediaTypeNotAccepted)
	case fiber.StatusTooManyRequests:
		return errs.E(errs.RateLimited, msgTooManyRequestsWaitMoment)
	case fiber.StatusRequestTimeout:
		return errs.E(errs.Unavailable, msgRequestTookTooLong)
	case fiber.StatusBadGateway:
		// fasthttp's own read of the request failed on the network (the client went away
		// mid-body): nothing of the app ran, and the client will not read the answer.
		return errs.E(errs.Invalid, msgRequestCouldNotReadCompletely)
	}
	if fe.Code >= 400 && fe.Code < 500 {
		return errs.E(errs.Invalid, msgRequestCouldNotUnderstood)
	}
	return fmt.Errorf("fiber: %w", fe)
}

// errorHandler is the one place an error becomes a response: problem+json for the API, an error
// page for people. Internal errors are logged once with the request's context and never sent.
func (a *App) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		err = fromFiber(fe)
	}
	code := errs.CodeOf(err)
	status := module.Status(code)
	rid, _ := c.Locals("requestid").(string)
	if rid == "" {
		// fasthttp refused the request while reading it (a body over the limit, a malformed
		// request line): no middleware ran, so it is given an id and logged here.
		rid = uuid.NewString()
		c.Set(fiber.HeaderXRequestID, rid)
		defer a.logRequest(c, rid, 0)
	}
	if status >= 500 {
		tenant := ""
		if r := c.Route(); r != nil && len(r.Params) > 0 { // no route when the request itself could not be read
			tenant = c.Params("tenant")
		}
		a.log.Error("request failed", "err", err, "request_id", rid, "route", c.Route().Path,
			"method", methodLabel(c.Method()), "tenant", tenant)
	}
	p := Problem{
		Type: "urn:cityops:problem:" + string(code), Title: http.StatusText(status), Status: status,
		Detail: errs.MessageIn(err, module.APILang(c)), Instance: c.OriginalURL(), Code: string(code), Field: errs.FieldOf(err), RequestID: rid,
	}
	if l := module.APILang(c); l == "zh-CN" {
		p.Title = console.Translate(l, "problem."+string(code))
	}
	if strings.HasPrefix(c.Path(), "/open311/") && status < 500 {
		// Refused before the Open311 handlers ran (at the edge): answered in GeoReport's
		// error format all the same, in the format the path asks for.
		f := open311.XML
		if strings.HasSuffix(c.Path(), ".json") {
			f = open311.JSON
		}
		return open311api.SendErrors(c, f, status, []open311.Error{{Code: status, Description: p.Detail}})
	}
	if status == http.StatusUnauthorized && !isAPI(c) {
		return c.Redirect("/login?next="+urlQueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	if status == http.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "5")
	}
	module.SetRetryAfter(c, err)
	if !isAPI(c) && strings.Contains(c.Get(fiber.HeaderAccept), "text/html") {
		c.Status(status)
		p.Title, p.Detail = console.Translate(console.Lang(c), "problem."+string(code)), errs.MessageIn(err, console.Lang(c))
		return a.web.Render(c, "error", fiber.Map{"Problem": p})
	}
	c.Set(fiber.HeaderContentLanguage, module.APILang(c))
	return module.SendProblem(c, status, p)
}

func isAPI(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/open311/") || p == "/healthz" || p == "/readyz" || p == "/metrics"
}

// maxJSONBody bounds JSON request bodies (module.MaxJSONBody).
const maxJSONBody = module.MaxJSONBody

// decodeJSON is module.DecodeJSON, the one strict JSON decoding of request bodies.
func decodeJSON(c *fiber.Ctx, v any) error { return module.DecodeJSON(c, v) }
