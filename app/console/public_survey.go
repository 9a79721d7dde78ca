package console

import (
	"net/url"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/open311"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// The citizens' survey (回访) on the public pages: under a closed report's progress on the lookup
// page, and on the survey link (/r/{tenant}/survey?number=…&token=…, what an SMS carries). The
// number and the token shown at report time are what the citizen holds; open311.Service checks
// them, records the answer once and reports a follow-up case for "not solved".

var msgTooManyAnswersMinuteWait = msg.New("console.too_many_answers_minute_wait",
	"Too many survey answers in a minute; wait a minute and try again.",
	"一分钟内提交回访次数过多，请等待一分钟后重试。")

// surveyRatings are the rating choices, best first.
var surveyRatings = []int{5, 4, 3, 2, 1}

// survey puts the survey of the report p into a lookup page's data: nothing before closure; the
// form (asking for the token unless the page has it) or the answer given once closed.
func (pub *publicPages) survey(c *fiber.Ctx, t *tenants.Tenant, p *open311.Progress, data fiber.Map) error {
	if p.State != cases.Closed {
		return nil
	}
	data["SurveyShown"], data["Ratings"], data["SurveyForm"] = true, surveyRatings, true
	tok := c.Query("token")
	if tok == "" || len(tok) > 64 {
		return nil
	}
	st, err := pub.d.Open311.SurveyStatusOf(c.UserContext(), t, p.Number, "", tok)
	if errs.Is(err, errs.NotFound) || errs.Is(err, errs.Invalid) {
		return nil // a wrong token is as no token: the form asks for it
	}
	if err != nil {
		return err
	}
	data["Survey"], data["SurveyToken"], data["SurveyForm"], data["TokenKnown"] = st, strings.Clone(tok), st.Open, true
	return nil
}

// surveyPage is the survey link: the form for the report the number and token name. A wrong pair
// is a 404 page that does not say whether the number exists.
func (pub *publicPages) surveyPage(c *fiber.Ctx) error {
	t := c.Locals("public.tenant").(*tenants.Tenant)
	number, tok := strings.Clone(strings.TrimSpace(c.Query("number"))), strings.Clone(c.Query("token"))
	data := fiber.Map{"Number": number, "Ratings": surveyRatings, "From": "link"}
	st, err := pub.d.Open311.SurveyStatusOf(c.UserContext(), t, number, "", tok)
	if err != nil {
		msg, err := FormError(c, err)
		if err != nil {
			return err
		}
		data["SurveyError"] = msg
		return pub.page(c, "public_survey", data)
	}
	data["Survey"], data["SurveyToken"], data["SurveyForm"], data["TokenKnown"] = st, tok, st.Open, true
	if !st.Closed {
		data["SurveyNotClosed"] = true
	}
	return pub.page(c, "public_survey", data)
}

// answerSurvey records the answer and shows the report's progress with it; a refused answer
// shows the form again with what was wrong (4xx).
func (pub *publicPages) answerSurvey(c *fiber.Ctx) error {
	t := c.Locals("public.tenant").(*tenants.Tenant)
	channel := open311.SurveyLookup
	if c.FormValue("from") == "link" {
		channel = open311.SurveyLink
	}
	in := open311.SurveyInput{Number: strings.TrimSpace(c.FormValue("number")), Token: c.FormValue("token"),
		Solved: c.FormValue("solved"), Rating: c.FormValue("rating"), Comment: c.FormValue("comment"), Channel: channel}
	a, err := pub.d.Open311.AnswerSurvey(c.UserContext(), t, in)
	if err != nil {
		msg, ferr := FormError(c, err)
		if ferr != nil {
			return ferr
		}
		data := fiber.Map{"Number": strings.Clone(in.Number), "Ratings": surveyRatings, "SurveyError": msg, "SurveyForm": true,
			"Answer": fiber.Map{"solved": strings.Clone(in.Solved), "rating": strings.Clone(in.Rating), "comment": strings.Clone(in.Comment)}}
		// The citizen's token goes back into the form, unless it was the wrong one (or unusable).
		if !errs.Is(err, errs.NotFound) && len(in.Token) <= 64 && !strings.ContainsRune(in.Token, 0) {
			data["SurveyToken"] = strings.Clone(in.Token)
		}
		if channel == open311.SurveyLink {
			data["From"] = "link"
		}
		if errs.Is(err, errs.Conflict) {
			data["SurveyForm"] = false
		}
		return pub.page(c, "public_survey", data)
	}
	return Done(c, "/r/"+t.Slug+"/lookup?number="+url.QueryEscape(a.Number)+"&token="+url.QueryEscape(in.Token), "public.survey.thanks")
}
