package open311

import (
	"context"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// WebFormKeyID is the id of the key row that stands for a tenant's public web report form
// (/r/{tenant}): the form is one more client app, so its requests are recorded, numbered and
// limited like a client's. The row is created on the form's first request; its hash is not the
// hash of any key, so no api key opens it. Revoking it (cityops open311 keys revoke) closes the
// form.
const WebFormKeyID = "web-form"

// webFormName is how the case history names the form as reporter.
const webFormName = "公众网页上报 / public web form"

// WebForm returns the services the tenant's public web form offers; NotFound when the tenant
// opens none to the public or has closed its form.
func (s *Service) WebForm(ctx context.Context, t *tenants.Tenant) ([]PublicService, error) {
	k, err := s.findWebFormKey(ctx, t)
	if err != nil {
		return nil, err
	}
	if k != nil && k.RevokedAt != nil {
		return nil, errs.E(errs.NotFound, msgHasClosedPublicReportForm, t.Slug)
	}
	ss, err := s.Services(ctx, t)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, errs.E(errs.NotFound, msgTakesNoReportsFromPublic, t.Slug)
	}
	return ss, nil
}

// CreateWebFormRequest creates a request from the public web form, by the same path as a
// client's POST: the same checks, the reporter's name and phone encrypted by the case module,
// a token, and the form named as reporter in the case's history. in.APIKey is ignored.
func (s *Service) CreateWebFormRequest(ctx context.Context, t *tenants.Tenant, in RequestInput) (*Receipt, error) {
	k, err := s.findWebFormKey(ctx, t)
	if err != nil {
		return nil, err
	}
	if k == nil {
		k = &Key{ID: WebFormKeyID, Name: webFormName, KeyHash: "web-form:" + uuid.NewString(), CreatedAt: s.now().UTC().Truncate(time.Microsecond)}
		if err := s.gate.Tx(tenants.WithScope(ctx, tenants.SystemScope(t)), tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewInsert().Model(k).On("CONFLICT DO NOTHING").Exec(ctx)
			return dbx.Translate(err)
		}); err != nil {
			return nil, err
		}
	} else if k.RevokedAt != nil {
		return nil, errs.E(errs.Forbidden, msgHasClosedPublicReportForm, t.Slug)
	}
	return s.createRequest(ctx, t, in, k, cases.Client{Kind: "web", ID: WebFormKeyID, Name: webFormName})
}

func (s *Service) findWebFormKey(ctx context.Context, t *tenants.Tenant) (*Key, error) {
	var ks []Key
	err := s.gate.Tx(readCtx(ctx, t), tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&ks).Where("id = ?", WebFormKeyID).Limit(1).Scan(ctx)
	})
	if err != nil || len(ks) == 0 {
		return nil, err
	}
	return &ks[0], nil
}

// Progress is what a citizen may see of a request by its number: the public request (no
// reporter, no description) and the states it went through, each with its public note.
type Progress struct {
	Number  string
	State   cases.State
	Request Request
	Steps   []Step
}

// Step is one change of state in a request's public history.
type Step struct {
	At    time.Time
	State cases.State
	Note  string
}

// FindProgress returns the progress of the request numbered number; NotFound unless it is a case
// of one of the tenant's public services. Who acted, their reasons and internal notes are not
// part of it.
func (s *Service) FindProgress(ctx context.Context, t *tenants.Tenant, number string) (*Progress, error) {
	number = strings.TrimSpace(number)
	notFound := errs.E(errs.NotFound, msgNoReportNumbered, textutil.Truncate(number, 40))
	if number == "" {
		return nil, errs.Field("number", msgGiveReportNumberEG)
	}
	ctx = readCtx(ctx, t)
	services, _, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	c, err := s.cases.FindCaseByNumber(ctx, number)
	if errs.Is(err, errs.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	class, ok := services[ServiceCode(c.Kind, c.ClassCode)]
	if !ok {
		return nil, notFound
	}
	depts, err := s.departments(ctx)
	if err != nil {
		return nil, err
	}
	events := c.Events
	c.Events, c.Photos, c.Reporter = nil, nil, nil
	r := requestOf(c, class, depts, "")
	r.Description = ""
	p := &Progress{Number: c.Number, State: c.State, Request: r, Steps: []Step{}}
	for _, e := range events {
		if n := len(p.Steps); n > 0 && p.Steps[n-1].State == e.To {
			continue // an action that kept the state (supervision, a rejected request) is not news
		}
		p.Steps = append(p.Steps, Step{At: e.At, State: e.To, Note: statusNotes[e.To]})
	}
	return p, nil
}
