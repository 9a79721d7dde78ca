package module

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cityops/cityops/internal/errs"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/language"
)

// Problem is an RFC 9457 problem details body, the answer of a refused API request. Code is the
// stable errs code; Field names the input at fault. Some problems add extension members by
// embedding it (a rejected import's rows and problems).
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance,omitempty"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// statuses maps the error vocabulary onto HTTP, for the API's problems and the console's pages alike.
var statuses = map[errs.Code]int{
	errs.Invalid:      http.StatusBadRequest,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.Gone:         http.StatusGone,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Unsupported:  http.StatusUnsupportedMediaType,
	errs.RateLimited:  http.StatusTooManyRequests,
	errs.Destroyed:    http.StatusGone,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.Upstream:     http.StatusBadGateway,
	errs.Internal:     http.StatusInternalServerError,
}

// Status is the HTTP status of an error code; 500 for a code it does not know.
func Status(code errs.Code) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Codes are the error codes Status knows, sorted: those a Problem may carry.
func Codes() []errs.Code {
	out := make([]errs.Code, 0, len(statuses))
	for c := range statuses {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// SendProblem answers with body, a Problem or a struct embedding one, as application/problem+json
// with status. (The app's error handler turns returned errors into problems; a handler calls this
// only for a problem with extension members.)
func SendProblem(c *fiber.Ctx, status int, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Status(status).Send(b)
}

// apiLanguages are the languages of API problems, the first the default.
var apiLanguages = language.NewMatcher([]language.Tag{language.English, language.SimplifiedChinese})

// APILang is the language of an API answer's texts (a problem's detail), from Accept-Language:
// "zh-CN" when the client prefers Chinese, else "en" (programs that say nothing get the English
// the API has always answered in; the console's pages are Chinese first).
func APILang(c *fiber.Ctx) string {
	tags, _, err := language.ParseAcceptLanguage(c.Get(fiber.HeaderAcceptLanguage))
	if err != nil || len(tags) == 0 {
		return "en"
	}
	if _, i, _ := apiLanguages.Match(tags...); i == 1 {
		return "zh-CN"
	}
	return "en"
}

// SetRetryAfter sends the wait err asks for (errs.RetryAfterOf), in whole seconds rounded up, as
// Retry-After; nothing when it asks for none.
func SetRetryAfter(c *fiber.Ctx, err error) {
	if d := errs.RetryAfterOf(err); d > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}
