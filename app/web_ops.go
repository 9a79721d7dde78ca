package app

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// webOpsRoutes registers the operating company's console: tenants, onboarding, lifecycle. The
// group admits any operator (web.go); each action asks for the operator roles its API endpoint
// asks for, and calls the same functions, which audit it.
func (a *App) webOpsRoutes(r fiber.Router) {
	admin := a.needOperator(tenants.OperatorAdmin)
	bill := a.needOperator(tenants.OperatorAdmin, tenants.OperatorBilling)
	r.Get("/", a.webOpsTenants)
	r.Get("/tenants/new", admin, a.webOpsNewTenant)
	r.Post("/tenants", admin, a.webOpsCreateTenant)
	r.Get("/tenants/:slug", a.webOpsTenant)
	r.Get("/tenants/:slug/provisioning", a.webOpsProvisioning)
	r.Get("/tenants/:slug/progress", a.webOpsProgress)
	r.Post("/tenants/:slug/provision", admin, a.webOpsResumeProvisioning)
	r.Post("/tenants/:slug/suspend", admin, a.webOpsSuspend)
	r.Post("/tenants/:slug/resume", admin, a.webOpsReactivate)
	r.Post("/tenants/:slug/offboard", admin, a.webOpsOffboard)
	r.Post("/tenants/:slug/invite-admin", admin, a.webOpsInviteAdmin)
	r.Get("/tenants/:slug/export", admin, a.webOpsExport)
	r.Post("/tenants/:slug/plan", bill, a.webOpsChangePlan)
	r.Get("/tenants/:slug/billing", bill, a.webOpsBilling)
	r.Post("/tenants/:slug/billing/:kind", bill, a.webOpsPost)
	r.Get("/tenants/:slug/billing/statements/:year", bill, a.webOpsStatement)
}

// opsRow is one tenant of the operator's table.
type opsRow struct {
	Tenant      *tenants.Tenant
	Parent      *tenants.Tenant
	Cases       int64
	Users       int64
	Outstanding int64
	Credit      int64
	Overdue     int64
}

var tenantStatuses = []tenants.Status{tenants.StatusProvisioning, tenants.StatusActive, tenants.StatusSuspended, tenants.StatusOffboarding, tenants.StatusDeleted}

// webOpsTenants lists every tenant with its plan, this month's usage and its balance, filtered by
// status (?status=) and parent prefecture (?parent=slug).
func (a *App) webOpsTenants(c *fiber.Ctx) error {
	ctx := c.UserContext()
	status := tenants.Status(c.Query("status"))
	if status != "" && !slices.Contains(tenantStatuses, status) {
		return errs.Field("status", msgStatusNotOneProvisioningActive, textutil.TruncateTrim(string(status), 20))
	}
	all, err := a.store.FindTenants(ctx, tenants.TenantFilter{IncludeDeleted: true})
	if err != nil {
		return err
	}
	byID := map[uuid.UUID]*tenants.Tenant{}
	var prefectures []*tenants.Tenant
	for _, t := range all {
		byID[t.ID] = t
		if t.Kind == tenants.Prefecture && t.Status != tenants.StatusDeleted {
			prefectures = append(prefectures, t)
		}
	}
	parent := c.Query("parent")
	var shown []*tenants.Tenant
	for _, t := range all {
		if (status == "" && t.Status == tenants.StatusDeleted) || (status != "" && t.Status != status) {
			continue
		}
		if parent != "" {
			p := t.ParentID
			if p == nil || byID[*p] == nil || byID[*p].Slug != parent {
				continue
			}
		}
		shown = append(shown, t)
	}
	ov, err := a.billing.Overview(ctx, shown, time.Time{})
	if err != nil {
		return err
	}
	now := a.store.Now()
	rows := make([]opsRow, 0, len(shown))
	for i, t := range shown {
		row := opsRow{Tenant: t, Outstanding: ov[i].Outstanding, Credit: ov[i].Credit, Overdue: ov[i].Ageing.Overdue}
		if t.ParentID != nil {
			row.Parent = byID[*t.ParentID]
		}
		if t.Status != tenants.StatusDeleted {
			qs, err := a.billing.QuotaStatus(ctx, t, now)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return err
			}
			for _, q := range qs {
				switch q.Meter {
				case billing.MeterCasesCreated:
					row.Cases = q.Quantity
				case billing.MeterActiveUsers:
					row.Users = q.Quantity
				}
			}
		}
		rows = append(rows, row)
	}
	return a.web.Render(c, "ops_tenants", fiber.Map{"Rows": rows, "Prefectures": prefectures, "Statuses": tenantStatuses,
		"Status": string(status), "Parent": parent, "CanAdmin": principal(c).IsOperator(tenants.OperatorAdmin),
		"CanBill": principal(c).IsOperator(tenants.OperatorAdmin, tenants.OperatorBilling)})
}

// webOpsCreateTenant starts provisioning the tenant of the wizard's form. A request the
// provisioner refuses (bad code, slug taken) shows the form again with the reason; otherwise the
// operator is sent to the page that follows the steps.
func (a *App) webOpsCreateTenant(c *fiber.Ctx) error {
	form := newTenantForm{Division: c.FormValue("division"), Parent: c.FormValue("parent"), AdminCode: strings.TrimSpace(c.FormValue("admin_code")),
		Slug: strings.TrimSpace(c.FormValue("slug")), NameZH: c.FormValue("name_zh"), NameEN: c.FormValue("name_en"),
		Kind: c.FormValue("kind"), Plan: c.FormValue("plan"), Email: c.FormValue("first_admin_email")}
	in := tenants.NewTenant{Slug: form.Slug, NameZH: form.NameZH, NameEN: form.NameEN, Kind: tenants.Kind(form.Kind), AdminCode: form.AdminCode,
		ParentSlug: form.Parent, Plan: form.Plan, FirstAdminEmail: form.Email}
	if in.Kind == tenants.Prefecture {
		in.ParentSlug = ""
	}
	if in.Plan != "" {
		if _, err := a.billing.FindPlan(c.UserContext(), in.Plan); err != nil {
			if errs.Is(err, errs.NotFound) {
				err = errs.Field("plan", msgThereNoPlan, textutil.TruncateTrim(in.Plan, 40))
			}
			msg, ferr := console.FormError(c, err)
			if ferr != nil {
				return ferr
			}
			return a.newTenantPage(c, form, msg)
		}
	}
	job := a.jobs.start(c.UserContext(), in.Slug, principal(c).Identity.ID, func(ctx context.Context) (*tenants.Provisioned, error) {
		return a.prov.Provision(ctx, in)
	})
	// Most refusals come back at once; wait a moment for them so that the form can say why.
	select {
	case <-job.done:
	case <-time.After(2 * time.Second):
	}
	if over, err := job.finished(); over && err != nil {
		t, ferr := a.store.FindTenantBySlug(c.UserContext(), in.Slug)
		if ferr != nil || t.Status != tenants.StatusProvisioning || t.AdminCode != in.AdminCode {
			// Nothing was recorded: the request itself was refused.
			msg, ferr := console.FormError(c, err)
			if ferr != nil {
				return ferr
			}
			return a.newTenantPage(c, form, msg)
		}
	}
	return c.Redirect("/ops/tenants/"+in.Slug+"/provisioning", fiber.StatusSeeOther)
}

// webOpsResumeProvisioning resumes a tenant whose provisioning stopped, in the background.
func (a *App) webOpsResumeProvisioning(c *fiber.Ctx) error {
	t, err := a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusProvisioning {
		return errs.E(errs.Conflict, msgTenantNotProvisioning, t.Slug, t.Status)
	}
	a.jobs.start(c.UserContext(), t.Slug, principal(c).Identity.ID, func(ctx context.Context) (*tenants.Provisioned, error) {
		return a.prov.Resume(ctx, t)
	})
	return c.Redirect("/ops/tenants/"+t.Slug+"/provisioning", fiber.StatusSeeOther)
}

// provStep is one provisioning step and where the tenant is with it: done, running, failed or
// pending.
type provStep struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// provProgress is the state of a tenant's provisioning, for the progress page and its poll.
type provProgress struct {
	Slug   string     `json:"slug"`
	Status string     `json:"status"`
	Steps  []provStep `json:"steps"`
	// Error is why the last run stopped (provision_error, or why the request was refused).
	Error string `json:"error,omitempty"`
	// Done: the tenant is active; Failed: the last run stopped and needs resuming (or, with
	// Refused, the request was refused and nothing was recorded).
	Done, Failed, Refused bool `json:"-"`
	// Running: this process is working on it now.
	Running bool `json:"running"`
	// Invitation is the first admin's invitation link, for the operator who started the run.
	Invitation string `json:"invitation_url,omitempty"`
	// State is one of starting, running, failed, refused, done (for the page's script).
	State string `json:"state"`
}

// progress works out the provisioning state of slug: the tenant's recorded step and error, and
// the console's run of it, if this process has one.
func (a *App) progress(c *fiber.Ctx, slug string) (*provProgress, *tenants.Tenant, error) {
	job := a.jobs.get(slug)
	p := &provProgress{Slug: slug}
	running := false
	var jobErr error
	if job != nil {
		over, err := job.finished()
		running, jobErr = !over, err
		if over && err == nil && job.invitation != "" && job.by == principal(c).Identity.ID {
			p.Invitation = a.cfg.BaseURL + "/invite/" + job.invitation
		}
	}
	p.Running = running
	t, err := a.store.FindTenantBySlug(c.UserContext(), slug)
	if errs.Is(err, errs.NotFound) && job != nil {
		// The run has not recorded the tenant yet, or its request was refused.
		for _, n := range a.prov.StepNames() {
			p.Steps = append(p.Steps, provStep{Name: n, State: "pending"})
		}
		p.Status, p.State = string(tenants.StatusProvisioning), "starting"
		if jobErr != nil {
			p.Refused, p.State, p.Error = true, "refused", errs.MessageOf(jobErr)
		}
		return p, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	p.Status = string(t.Status)
	names := a.prov.StepNames()
	last := slices.Index(names, t.ProvisionStep)
	for i, n := range names {
		st := "pending"
		switch {
		case t.Status != tenants.StatusProvisioning || i <= last:
			st = "done"
		case i == last+1 && t.ProvisionError != "" && !running:
			st = "failed"
		case i == last+1:
			st = "running"
		}
		p.Steps = append(p.Steps, provStep{Name: n, State: st})
	}
	switch {
	case t.Status != tenants.StatusProvisioning && !running:
		// Done once the job has also recorded its result (the first admin's invitation): the
		// steps are done a moment before, and a page that stopped following then would miss it.
		p.Done, p.State = true, "done"
	case !running && (t.ProvisionError != "" || jobErr != nil):
		p.Failed, p.State, p.Error = true, "failed", t.ProvisionError
		if p.Error == "" {
			p.Error = errs.MessageOf(jobErr)
		}
	case !running && job == nil:
		// Stopped without a recorded error (a crash, or a run in another process): it can be resumed.
		p.Failed, p.State = true, "failed"
	default:
		p.State = "running"
	}
	return p, t, nil
}

// webOpsProvisioning shows a tenant's provisioning steps; ops.js follows them through
// webOpsProgress until the tenant is active or a step fails.
func (a *App) webOpsProvisioning(c *fiber.Ctx) error {
	p, t, err := a.progress(c, c.Params("slug"))
	if err != nil {
		return err
	}
	return a.web.Render(c, "ops_provisioning", fiber.Map{"Progress": p, "T": t, "CanAdmin": principal(c).IsOperator(tenants.OperatorAdmin)})
}

// webOpsProgress is the progress page's poll: the provisioning state as JSON.
func (a *App) webOpsProgress(c *fiber.Ctx) error {
	p, _, err := a.progress(c, c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p)
}

// opsTenant is what the tenant detail page shows.
type opsTenant struct {
	T        *tenants.Tenant
	Parent   *tenants.Tenant
	Children int
	Members  int
	Progress *provProgress
	Billing  *billing.Summary
}

func (a *App) opsTenantPage(c *fiber.Ctx, t *tenants.Tenant, formErr, formName string, extra ...any) error {
	ctx := c.UserContext()
	d := &opsTenant{T: t}
	var err error
	if t.ParentID != nil {
		if d.Parent, err = a.store.FindTenantByID(ctx, *t.ParentID); err != nil {
			return err
		}
	}
	children, err := a.store.Children(ctx, t)
	if err != nil {
		return err
	}
	d.Children = len(children)
	ms, err := a.store.FindMembers(ctx, t.ID)
	if err != nil {
		return err
	}
	d.Members = len(ms)
	if d.Progress, _, err = a.progress(c, t.Slug); err != nil {
		return err
	}
	if d.Billing, err = a.billing.FindSummary(ctx, t); err != nil {
		return err
	}
	plans, err := a.billing.FindPlans(ctx)
	if err != nil {
		return err
	}
	next := clock.StartOfMonth(a.store.Now()).AddDate(0, 1, 0).Format("2006-01")
	data := fiber.Map{"D": d, "Plans": plans, "NextMonth": next, "Error": formErr, "ErrorForm": formName,
		"CanAdmin": principal(c).IsOperator(tenants.OperatorAdmin), "CanBill": principal(c).IsOperator(tenants.OperatorAdmin, tenants.OperatorBilling)}
	for i := 0; i+1 < len(extra); i += 2 {
		data[extra[i].(string)] = extra[i+1]
	}
	return a.web.Render(c, "ops_tenant", data)
}

// opsTenantOf finds :slug for the operator's pages.
func (a *App) opsTenantOf(c *fiber.Ctx) (*tenants.Tenant, error) {
	return a.store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
}

func (a *App) webOpsTenant(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	return a.opsTenantPage(c, t, "", "")
}

// opsFormFailed shows the tenant page again with a failed action's message (or returns an
// internal error for the error page).
func (a *App) opsFormFailed(c *fiber.Ctx, t *tenants.Tenant, form string, err error) error {
	msg, ferr := console.FormError(c, err)
	if ferr != nil {
		return ferr
	}
	return a.opsTenantPage(c, t, msg, form)
}

// webOpsSuspend suspends a tenant, as POST /api/v1/tenants/:slug/suspend does.
func (a *App) webOpsSuspend(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if len([]rune(reason)) > 500 {
		return a.opsFormFailed(c, t, "suspend", errs.Field("reason", msgReasonLongerThanCharacters))
	}
	if err := a.store.Suspend(c.UserContext(), t, reason); err != nil {
		return a.opsFormFailed(c, t, "suspend", err)
	}
	return console.Done(c, "/ops/tenants/"+t.Slug, "ops.msg.suspended")
}

// webOpsReactivate resumes a suspended tenant, as POST /api/v1/tenants/:slug/resume does.
func (a *App) webOpsReactivate(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	if err := a.store.Reactivate(c.UserContext(), t); err != nil {
		return a.opsFormFailed(c, t, "resume", err)
	}
	return console.Done(c, "/ops/tenants/"+t.Slug, "ops.msg.resumed")
}

// webOpsInviteAdmin invites a tenant admin on the tenant's behalf: how an operator replaces a first
// admin's lost invitation link (it is shown once, to whoever started provisioning) or helps a
// county whose admins have all left. The invitation is audited by the store; the link is shown
// once, here.
func (a *App) webOpsInviteAdmin(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended {
		return a.opsFormFailed(c, t, "invite", errs.E(errs.Conflict, msgInviteAdminsOnceProvisioned, t.NameZH, t.Status))
	}
	_, token, err := a.store.Invite(c.UserContext(), t, c.FormValue("email"), c.FormValue("name"), tenants.TenantAdmin)
	if err != nil {
		return a.opsFormFailed(c, t, "invite", err)
	}
	return a.opsTenantPage(c, t, "", "", "InviteURL", a.cfg.BaseURL+"/invite/"+token)
}

// webOpsOffboard offboards a tenant after the operator typed its slug, as POST
// /api/v1/tenants/:slug/offboard does: the export goes to the data directory, then the data goes.
func (a *App) webOpsOffboard(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	if _, err := a.prov.OffboardTo(c.UserContext(), t, c.FormValue("confirm"), a.exportDir()); err != nil {
		return a.opsFormFailed(c, t, "offboard", err)
	}
	return console.Done(c, "/ops", "ops.msg.offboarded")
}

// webOpsExport downloads a tenant's export archive (audited as tenant.export).
func (a *App) webOpsExport(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	return api.SendExport(c, a.store, t)
}

// webOpsChangePlan changes a tenant's plan from a month, as POST
// /api/v1/billing/tenants/:slug/plan-changes does.
func (a *App) webOpsChangePlan(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	in := billing.PlanChangeRequest{Plan: c.FormValue("plan"), Effective: c.FormValue("effective"), Memo: strings.TrimSpace(c.FormValue("memo"))}
	if in.Plan == "" {
		return a.opsFormFailed(c, t, "plan", errs.Field("plan", msgChoosePlanChange))
	}
	ch, err := a.billing.ChangePlan(c.UserContext(), t, in)
	if err != nil {
		return a.opsFormFailed(c, t, "plan", err)
	}
	if !ch.Recorded {
		return console.Done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_same")
	}
	return console.Done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_changed")
}
