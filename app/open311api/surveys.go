package open311api

import (
	"net/http"

	"github.com/cityops/cityops/platform/open311"
	"github.com/gofiber/fiber/v2"
)

// The survey extension (CityOps, not part of GeoReport v2; docs/open311.md#surveys): a client
// that holds a request's token reads its survey and answers it once the request is closed.
//
//	GET  /open311/v2/surveys/{token}.{fmt}?jurisdiction_id=…  (the token names the request, as in GET tokens)
//	POST /open311/v2/surveys.{fmt}   jurisdiction_id, token, service_request_id (or number),
//	                                 solved (yes|no), rating (1–5), comment (optional)
//
// Both answer a list of one survey (XML root surveys/survey). A wrong token, or a token with
// another request's id, is a 404 that does not say whether the request exists; a second answer
// or one before the request is closed is a 409.

func (h *handlers) survey(c *fiber.Ctx) error {
	st, err := h.svc.SurveyStatusOf(c.UserContext(), tenant(c), c.Query("number"), c.Query("service_request_id"), c.Params("token"))
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	return h.reply(c, http.StatusOK, []open311.SurveyReceipt{st.Receipt()}, nil)
}

func (h *handlers) answerSurvey(c *fiber.Ctx) error {
	in := open311.SurveyInput{Number: c.FormValue("number"), ServiceRequestID: c.FormValue("service_request_id"), Token: c.FormValue("token"),
		Solved: c.FormValue("solved"), Rating: c.FormValue("rating"), Comment: c.FormValue("comment"), Channel: open311.SurveyOpen311}
	a, err := h.svc.AnswerSurvey(c.UserContext(), tenant(c), in)
	if err != nil {
		return h.reply(c, 0, nil, err)
	}
	return h.reply(c, http.StatusOK, []open311.SurveyReceipt{a.Receipt()}, nil)
}
