package open311

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The citizens' survey (回访). Once a case reported by the public (the web form or an Open311
// client) is closed, whoever holds the report's number and its token — what the citizen was given
// at report time, never a guessable id — answers once: solved or not, satisfaction 1–5 and a
// comment. The answer is the tenant's own row (case_surveys, tenant migration 0032), audited as
// open311.survey_answer.
//
// A closed case is final in the case loop (cases.Machine has no action from Closed), so "not
// solved" does not reopen it: it reports a follow-up case — same class, place and reporter,
// source citizen, its description quoting the complaint — and links the two (the survey row's
// followup_case_id; the follow-up finds its original by it). The follow-up gets a token of its
// own, under the same client, shown with the original's progress, so the citizen's number
// leads to it.

// Survey channels: where the answer was given.
const (
	SurveyLookup  = "lookup"  // the public progress page
	SurveyLink    = "link"    // the survey link (what an SMS carries)
	SurveyOpen311 = "open311" // the Open311 extension endpoint
)

// MaxSurveyComment is the longest comment an answer may carry, in characters.
const MaxSurveyComment = 500

// surveyClient is how a follow-up case's history names its reporter.
var surveyClient = cases.Client{Kind: "survey", ID: "survey", Name: "公众回访 / citizen survey"}

// Survey is a citizen's answer for one case.
type Survey struct {
	bun.BaseModel `bun:"table:case_surveys"`
	CaseID        string `bun:"case_id,pk" json:"case_id"`
	Channel       string `bun:"channel" json:"channel"`
	// AskedBy is who asked: the client the citizen reported through (the web form or an Open311
	// client app); AskedAt when the survey was offered (the case's closing).
	AskedBy    string    `bun:"asked_by" json:"asked_by"`
	AskedAt    time.Time `bun:"asked_at" json:"asked_at"`
	Solved     bool      `bun:"solved" json:"solved"`
	Rating     int       `bun:"rating" json:"rating"`
	Comment    string    `bun:"comment" json:"comment"`
	AnsweredAt time.Time `bun:"answered_at" json:"answered_at"`
	// FollowUpCaseID is the case reported again when the answer was "not solved".
	FollowUpCaseID *string `bun:"followup_case_id" json:"followup_case_id"`
}

// SurveyInput is an answer as a citizen gives it.
type SurveyInput struct {
	// Number is the report's number; an Open311 client may give ServiceRequestID instead.
	Number, ServiceRequestID, Token string
	// Solved is "yes"/"no" (or true/false, 1/0); Rating "1"…"5": both as sent, checked here.
	Solved, Rating string
	Comment        string
	Channel        string
}

// SurveyAnswer is what the citizen sees after answering: the answer, and the follow-up case's
// number and token when one was reported.
type SurveyAnswer struct {
	Survey         Survey `json:"-"`
	Number         string `json:"service_request_number"`
	FollowUpNumber string `json:"followup_number,omitempty"`
	FollowUpID     string `json:"followup_service_request_id,omitempty"`
	FollowUpToken  string `json:"followup_token,omitempty"`
}

// SurveyStatus is what the public progress page shows of a report's survey: whether it may be
// answered now, the answer when there is one, and the follow-up's number and token.
type SurveyStatus struct {
	ID             string // the case's (service_request_id)
	Closed         bool
	Open           bool
	Answer         *Survey
	FollowUpNumber string
	FollowUpToken  string
}

// clean refuses NUL bytes and invalid UTF-8 (bun writes values into the SQL text) and trims.
func clean(field, v string, max int) (string, error) {
	if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
		return "", errs.Field(field, msgSurveyBadCharacters, field)
	}
	v = strings.TrimSpace(v)
	if utf8.RuneCountInString(v) > max {
		return "", errs.Field(field, msgSurveyTooLong, field, max)
	}
	return v, nil
}

// check reads the answer's fields: solved, rating and comment.
func (in *SurveyInput) check() (solved bool, rating int, comment string, err error) {
	switch strings.ToLower(strings.TrimSpace(in.Solved)) {
	case "yes", "true", "1":
		solved = true
	case "no", "false", "0":
	default:
		return false, 0, "", errs.Field("solved", msgSurveySolvedYesNo)
	}
	r := strings.TrimSpace(in.Rating)
	if len(r) != 1 || r[0] < '1' || r[0] > '5' {
		return false, 0, "", errs.Field("rating", msgSurveyRatingOneToFive)
	}
	rating = int(r[0] - '0')
	comment, err = clean("comment", in.Comment, MaxSurveyComment)
	return solved, rating, comment, err
}

// surveyed is a report a citizen holds: its case (closed or not), its request row and the
// client it came through.
type surveyed struct {
	c      *cases.Case
	req    request
	client string
}

// findHeld finds the report whose token is token, in t, and checks that it is numbered number
// (or has the id id; the token alone when both are empty); one NotFound for every miss (no such
// token, another report's token, a case not from the public), so that an answer never tells
// whether a number exists.
func (s *Service) findHeld(ctx context.Context, t *tenants.Tenant, number, id, token string) (*surveyed, error) {
	notFound := errs.E(errs.NotFound, msgSurveyNoReportNumberToken)
	number, err := clean("number", number, 40)
	if err != nil {
		return nil, err
	}
	if id, err = clean("service_request_id", id, 64); err != nil {
		return nil, err
	}
	if token, err = clean("token", token, 64); err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errs.Field("token", msgSurveyGiveNumberToken)
	}
	var rs []request
	var keys []Key
	err = s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&rs).Where("token = ?", token).Limit(1).Scan(ctx); err != nil || len(rs) == 0 {
			return err
		}
		return db.NewSelect().Model(&keys).Where("id = ?", rs[0].KeyID).Limit(1).Scan(ctx)
	})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, notFound
	}
	c, err := s.cases.FindCaseByID(readCtx(ctx, t), rs[0].CaseID)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	if (number != "" && c.Number != number) || (number == "" && id != "" && c.ID != id) || c.Source != cases.FromCitizen {
		return nil, notFound
	}
	h := &surveyed{c: c, req: rs[0], client: rs[0].KeyID}
	if len(keys) > 0 {
		h.client = keys[0].Name
	}
	return h, nil
}

// findSurvey returns the answer for caseID (nil when none) and the follow-up's token.
func findSurvey(ctx context.Context, db bun.IDB, caseID string) (*Survey, string, error) {
	var ss []Survey
	if err := db.NewSelect().Model(&ss).Where("case_id = ?", caseID).Limit(1).Scan(ctx); err != nil || len(ss) == 0 {
		return nil, "", dbx.Translate(err)
	}
	if ss[0].FollowUpCaseID == nil {
		return &ss[0], "", nil
	}
	var rs []request
	if err := db.NewSelect().Model(&rs).Where("case_id = ?", *ss[0].FollowUpCaseID).Limit(1).Scan(ctx); err != nil {
		return nil, "", dbx.Translate(err)
	}
	if len(rs) == 0 {
		return &ss[0], "", nil
	}
	return &ss[0], rs[0].Token, nil
}

// SurveyStatusOf returns the survey of the report numbered number (or, for an Open311 client,
// with service_request_id id) for the holder of its token.
func (s *Service) SurveyStatusOf(ctx context.Context, t *tenants.Tenant, number, id, token string) (*SurveyStatus, error) {
	h, err := s.findHeld(ctx, t, number, id, token)
	if err != nil {
		return nil, err
	}
	st := &SurveyStatus{ID: h.c.ID, Closed: h.c.State == cases.Closed}
	var tok string
	if err := s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		st.Answer, tok, err = findSurvey(ctx, db, h.c.ID)
		return err
	}); err != nil {
		return nil, err
	}
	st.Open = st.Answer == nil && h.c.State == cases.Closed
	if st.Answer != nil && st.Answer.FollowUpCaseID != nil {
		f, err := s.cases.FindCaseByID(readCtx(ctx, t), *st.Answer.FollowUpCaseID)
		if err != nil {
			return nil, err
		}
		st.FollowUpNumber, st.FollowUpToken = f.Number, tok
	}
	return st, nil
}

// AnswerSurvey records the citizen's answer for the report numbered in.Number, authenticated by
// its token: NotFound for a wrong pair (whether the number exists or not), Conflict before the
// case is closed and for a second answer, Invalid for bad fields. "Not solved" reports the
// follow-up case; when that fails, the answer is taken back, so nothing stays half done and the
// citizen may answer again.
func (s *Service) AnswerSurvey(ctx context.Context, t *tenants.Tenant, in SurveyInput) (*SurveyAnswer, error) {
	if t.Status != tenants.StatusActive {
		return nil, errs.E(errs.Forbidden, msgJurisdictionSuspendedTakesNoNew, t.Slug)
	}
	switch in.Channel {
	case SurveyLookup, SurveyLink, SurveyOpen311:
	default:
		return nil, errs.E(errs.Internal, msgSurveyUnknownChannel, in.Channel)
	}
	// The fields first: a bad answer says what is wrong whatever the token.
	solved, rating, comment, err := in.check()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Number) == "" && strings.TrimSpace(in.ServiceRequestID) == "" {
		return nil, errs.Field("number", msgSurveyGiveNumberToken)
	}
	h, err := s.findHeld(ctx, t, in.Number, in.ServiceRequestID, in.Token)
	if err != nil {
		return nil, err
	}
	if h.c.State != cases.Closed {
		return nil, errs.E(errs.Conflict, msgSurveyNotClosedYet, h.c.Number)
	}
	asked := h.c.UpdatedAt
	if h.c.ClosedAt != nil {
		asked = *h.c.ClosedAt
	}
	sv := &Survey{CaseID: h.c.ID, Channel: in.Channel, AskedBy: textutil.Truncate(h.client, 120), AskedAt: asked.UTC(),
		Solved: solved, Rating: rating, Comment: comment, AnsweredAt: s.now().UTC().Truncate(time.Microsecond)}
	wctx := tenants.WithScope(ctx, intakeScope(t))
	// The row first: its primary key lets one answer in, however many arrive at once.
	if err := s.gate.Tx(wctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(sv).Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		if errs.Is(err, errs.Conflict) {
			return nil, errs.E(errs.Conflict, msgSurveyAlreadyAnswered, h.c.Number)
		}
		return nil, err
	}
	out := &SurveyAnswer{Survey: *sv, Number: h.c.Number}
	if !solved {
		if err := s.followUp(wctx, t, h, sv, out); err != nil {
			if derr := s.gate.Tx(wctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
				_, err := db.NewDelete().Model((*Survey)(nil)).Where("case_id = ?", sv.CaseID).Exec(ctx)
				return err
			}); derr != nil {
				s.log.Error("survey answer not taken back after its follow-up failed", "tenant", t.Slug, "case", sv.CaseID, "err", derr)
			}
			return nil, err
		}
	}
	detail := map[string]any{"number": h.c.Number, "channel": sv.Channel, "solved": sv.Solved, "rating": sv.Rating}
	if out.FollowUpID != "" {
		detail["followup_case_id"] = out.FollowUpID
	}
	if err := s.gate.AuditNow(ctx, "open311.survey_answer", &t.ID, sv.CaseID, detail); err != nil {
		s.log.Error("survey answer not audited; it is recorded", "tenant", t.Slug, "case", sv.CaseID, "err", err)
	}
	return out, nil
}

// followUp reports the case again for an answer "not solved" and links it to the original.
func (s *Service) followUp(ctx context.Context, t *tenants.Tenant, h *surveyed, sv *Survey, out *SurveyAnswer) error {
	// The reporter's name and phone come along (the intake scope reads them in the clear).
	orig, err := s.cases.FindCaseByID(ctx, h.c.ID)
	if err != nil {
		return err
	}
	quote := "回访未解决（原案卷 " + orig.Number + "）/ Not solved, says the citizen's survey of case " + orig.Number
	if sv.Comment != "" {
		quote += "：「" + sv.Comment + "」"
	}
	if orig.Description != "" {
		quote += "\n原问题 / the report: " + orig.Description
	}
	in := cases.ReportInput{Source: cases.FromCitizen, Kind: orig.Kind, ClassCode: orig.ClassCode,
		Description: textutil.Truncate(quote, 2000), Address: orig.Address, Lon: orig.Lon, Lat: orig.Lat}
	if orig.Reporter != nil && orig.Reporter.Visibility == "clear" {
		in.ReporterName, in.ReporterPhone = orig.Reporter.Name, orig.Reporter.Phone
	}
	c, err := s.cases.Report(cases.WithClient(ctx, surveyClient), in)
	if err != nil {
		return err
	}
	r := &request{Token: uuid.NewString(), CaseID: c.ID, KeyID: h.req.KeyID, CreatedAt: s.now().UTC()}
	if err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
			return dbx.Translate(err)
		}
		_, err := db.NewUpdate().Model((*Survey)(nil)).Set("followup_case_id = ?", c.ID).Where("case_id = ?", sv.CaseID).Exec(ctx)
		return dbx.Translate(err)
	}); err != nil {
		return err
	}
	sv.FollowUpCaseID = &c.ID
	out.Survey.FollowUpCaseID = &c.ID
	out.FollowUpNumber, out.FollowUpID, out.FollowUpToken = c.Number, c.ID, r.Token
	return nil
}

// CaseSurvey is what staff see of a case's survey on its page: the answer given for it, and the
// case it followed up (when it was reported again by a survey).
type CaseSurvey struct {
	Answer         *Survey
	FollowUpNumber string // the case the answer reported again
	FollowUpID     string
	OriginalNumber string // the case whose survey reported this one
	OriginalID     string
	OriginalAnswer *Survey
}

// FindCaseSurvey returns the survey of case id as the scope of ctx may read it (a tenant's staff,
// a prefecture's viewer): NotFound when the case is not the tenant's; an empty CaseSurvey when
// the case has none.
func (s *Service) FindCaseSurvey(ctx context.Context, id string) (*CaseSurvey, error) {
	if _, err := s.cases.FindCaseByID(ctx, id); err != nil {
		return nil, err
	}
	out := &CaseSurvey{}
	var orig []Survey
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		if out.Answer, _, err = findSurvey(ctx, db, id); err != nil {
			return err
		}
		return dbx.Translate(db.NewSelect().Model(&orig).Where("followup_case_id = ?", id).Limit(1).Scan(ctx))
	}); err != nil {
		return nil, err
	}
	if out.Answer != nil && out.Answer.FollowUpCaseID != nil {
		f, err := s.cases.FindCaseByID(ctx, *out.Answer.FollowUpCaseID)
		if err != nil {
			return nil, err
		}
		out.FollowUpNumber, out.FollowUpID = f.Number, f.ID
	}
	if len(orig) > 0 {
		o, err := s.cases.FindCaseByID(ctx, orig[0].CaseID)
		if err != nil {
			return nil, err
		}
		out.OriginalNumber, out.OriginalID, out.OriginalAnswer = o.Number, o.ID, &orig[0]
	}
	return out, nil
}

// SurveyLinkPath is the path of a report's survey link on the public pages (what an SMS
// carries), to be joined to the deployment's base URL.
func SurveyLinkPath(t *tenants.Tenant, number, token string) string {
	return "/r/" + t.Slug + "/survey?number=" + url.QueryEscape(number) + "&token=" + url.QueryEscape(token)
}

// SurveyLinkFor returns the survey link path of case id in t when its survey is open (a closed
// public report with no answer yet): the hook a notification sender (SMS) calls once a case is
// closed. ok is false when there is nothing to ask. No SMS sender exists in the codebase yet;
// docs/public.md says how one plugs in here.
func (s *Service) SurveyLinkFor(ctx context.Context, t *tenants.Tenant, id string) (path string, ok bool, err error) {
	var rs []request
	var sv *Survey
	err = s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if err := db.NewSelect().Model(&rs).Where("case_id = ?", id).Limit(1).Scan(ctx); err != nil || len(rs) == 0 {
			return err
		}
		sv, _, err = findSurvey(ctx, db, id)
		return err
	})
	if err != nil || len(rs) == 0 || sv != nil {
		return "", false, err
	}
	c, err := s.cases.FindCaseByID(readCtx(ctx, t), id)
	if err != nil {
		return "", false, err
	}
	if c.State != cases.Closed || c.Source != cases.FromCitizen {
		return "", false, nil
	}
	return SurveyLinkPath(t, c.Number, rs[0].Token), true, nil
}

// SurveyReceipt is the Open311 extension's answer (GET and POST surveys): the survey of one
// request, its status "open", "answered" or "not_closed", the answer, and the follow-up request
// an answer "not solved" reported.
type SurveyReceipt struct {
	ID               string `xml:"service_request_id" json:"service_request_id"`
	Status           string `xml:"survey_status" json:"survey_status"`
	Solved           *bool  `xml:"solved,omitempty" json:"solved,omitempty"`
	Rating           int    `xml:"rating,omitempty" json:"rating,omitempty"`
	Comment          string `xml:"comment,omitempty" json:"comment,omitempty"`
	AnsweredDatetime string `xml:"answered_datetime,omitempty" json:"answered_datetime,omitempty"`
	FollowUpID       string `xml:"followup_service_request_id,omitempty" json:"followup_service_request_id,omitempty"`
	FollowUpToken    string `xml:"followup_token,omitempty" json:"followup_token,omitempty"`
}

// Receipt is the status as the Open311 extension answers it.
func (st *SurveyStatus) Receipt() SurveyReceipt {
	r := SurveyReceipt{ID: st.ID, Status: "not_closed"}
	switch {
	case st.Answer != nil:
		r.Status = "answered"
		solved := st.Answer.Solved
		r.Solved, r.Rating, r.Comment, r.AnsweredDatetime = &solved, st.Answer.Rating, st.Answer.Comment, w3c(st.Answer.AnsweredAt)
		if st.Answer.FollowUpCaseID != nil {
			r.FollowUpID, r.FollowUpToken = *st.Answer.FollowUpCaseID, st.FollowUpToken
		}
	case st.Open:
		r.Status = "open"
	}
	return r
}

// Receipt is the answer as the Open311 extension returns it.
func (a *SurveyAnswer) Receipt() SurveyReceipt {
	st := SurveyStatus{ID: a.Survey.CaseID, Answer: &a.Survey, FollowUpToken: a.FollowUpToken}
	return st.Receipt()
}
