package console

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/app/api"
	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/blob"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// OpsDeps are what the operating company's console uses.
type OpsDeps struct {
	UI      *UI
	Store   *tenants.Store
	Prov    *tenants.Provisioner
	Billing *billing.Service
	// Runs are the provisioning runs the console starts in the background; the composition root
	// owns them, so that shutdown waits for them.
	Runs ProvisioningRuns
	// Statements serves yearly statements, the same way as the API.
	Statements api.Statements
	// BaseURL starts the invitation links shown.
	BaseURL string
	// ExportDir is where export downloads are spooled.
	ExportDir string
	// Archives is the object store offboarding leaves a tenant's export archive in.
	Archives blob.Store
	// NeedAdmin admits operator_admin; NeedBilling admits operator_admin and operator_billing.
	NeedAdmin, NeedBilling fiber.Handler
	// Exchange is every tenant's upward connection (the page /ops/exchange; none without it).
	Exchange ExchangeUnits
}

// ProvisioningRuns are provisioning runs in the background, one per tenant slug.
type ProvisioningRuns interface {
	// Start runs fn in the background as slug's run unless one is still running; it returns the
	// run. The run keeps the values of ctx (the request's), not its end.
	Start(ctx context.Context, slug string, by uuid.UUID, fn func(ctx context.Context) (*tenants.Provisioned, error)) ProvisioningRun
	// Find is slug's run in this process; nil when there is none.
	Find(slug string) ProvisioningRun
}

// ProvisioningRun is one provisioning run.
type ProvisioningRun interface {
	// Done is closed when the run ends.
	Done() <-chan struct{}
	// Finished reports whether the run has ended, with its error.
	Finished() (bool, error)
	// By is who started the run.
	By() uuid.UUID
	// Invitation is the first admin's invitation token, once the run has ended well.
	Invitation() string
}

// opsPages are the operating company's console: tenants, onboarding, lifecycle, billing.
type opsPages struct{ d OpsDeps }

// MountOps registers the operating company's console on r, a group that admits any operator;
// each action asks for the operator roles its API endpoint asks for, and calls the same
// functions, which audit it.
func MountOps(r fiber.Router, d OpsDeps) {
	o := &opsPages{d: d}
	admin, bill := d.NeedAdmin, d.NeedBilling
	r.Get("/", o.tenants)
	r.Get("/tenants/new", admin, o.newTenant)
	r.Post("/tenants", admin, o.createTenant)
	r.Get("/tenants/:slug", o.tenant)
	r.Get("/tenants/:slug/provisioning", o.provisioning)
	r.Get("/tenants/:slug/progress", o.progressPoll)
	r.Post("/tenants/:slug/provision", admin, o.resumeProvisioning)
	r.Post("/tenants/:slug/suspend", admin, o.suspend)
	r.Post("/tenants/:slug/resume", admin, o.reactivate)
	r.Post("/tenants/:slug/offboard", admin, o.offboard)
	r.Post("/tenants/:slug/invite-admin", admin, o.inviteAdmin)
	r.Get("/tenants/:slug/export", admin, o.export)
	r.Post("/tenants/:slug/export", admin, o.exportClear)
	r.Post("/tenants/:slug/export/waiver", admin, o.waive)
	r.Post("/tenants/:slug/plan", bill, o.changePlan)
	r.Get("/tenants/:slug/billing", bill, o.billing)
	r.Post("/tenants/:slug/billing/:kind", bill, o.post)
	r.Get("/tenants/:slug/billing/statements/:year", bill, o.statement)
	if d.Exchange != nil {
		r.Get("/exchange", o.exchange)
	}
}

// OpsRow is one tenant of the operator's table (the ops_tenants page).
type OpsRow struct {
	Tenant      *tenants.Tenant
	Parent      *tenants.Tenant
	Cases       int64
	Users       int64
	Outstanding int64
	Credit      int64
	Overdue     int64
}

var tenantStatuses = []tenants.Status{tenants.StatusProvisioning, tenants.StatusActive, tenants.StatusSuspended, tenants.StatusOffboarding, tenants.StatusDeleted}

// tenants lists every tenant with its plan, this month's usage and its balance, filtered by
// status (?status=) and parent prefecture (?parent=slug).
func (o *opsPages) tenants(c *fiber.Ctx) error {
	ctx := c.UserContext()
	status := tenants.Status(c.Query("status"))
	if status != "" && !slices.Contains(tenantStatuses, status) {
		return errs.Field("status", msgStatusNotOneProvisioningActive, textutil.TruncateTrim(string(status), 20))
	}
	all, err := o.d.Store.FindTenants(ctx, tenants.TenantFilter{IncludeDeleted: true})
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
	ov, err := o.d.Billing.Overview(ctx, shown, time.Time{})
	if err != nil {
		return err
	}
	now := o.d.Store.Now()
	rows := make([]OpsRow, 0, len(shown))
	for i, t := range shown {
		row := OpsRow{Tenant: t, Outstanding: ov[i].Outstanding, Credit: ov[i].Credit, Overdue: ov[i].Ageing.Overdue}
		if t.ParentID != nil {
			row.Parent = byID[*t.ParentID]
		}
		if t.Status != tenants.StatusDeleted {
			qs, err := o.d.Billing.QuotaStatus(ctx, t, now)
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
	p := module.Principal(c)
	return o.d.UI.Render(c, "ops_tenants", fiber.Map{"Rows": rows, "Prefectures": prefectures, "Statuses": tenantStatuses,
		"Status": string(status), "Parent": parent, "CanAdmin": p.IsOperator(tenants.OperatorAdmin), "Exchange": o.d.Exchange != nil,
		"CanBill": p.IsOperator(tenants.OperatorAdmin, tenants.OperatorBilling)})
}

// createTenant starts provisioning the tenant of the wizard's form. A request the provisioner
// refuses (bad code, slug taken) shows the form again with the reason; otherwise the operator is
// sent to the page that follows the steps.
func (o *opsPages) createTenant(c *fiber.Ctx) error {
	form := NewTenantForm{Division: c.FormValue("division"), Parent: c.FormValue("parent"), AdminCode: strings.TrimSpace(c.FormValue("admin_code")),
		Slug: strings.TrimSpace(c.FormValue("slug")), NameZH: c.FormValue("name_zh"), NameEN: c.FormValue("name_en"),
		Kind: c.FormValue("kind"), Plan: c.FormValue("plan"), Email: c.FormValue("first_admin_email")}
	in := tenants.NewTenant{Slug: form.Slug, NameZH: form.NameZH, NameEN: form.NameEN, Kind: tenants.Kind(form.Kind), AdminCode: form.AdminCode,
		ParentSlug: form.Parent, Plan: form.Plan, FirstAdminEmail: form.Email}
	if in.Kind == tenants.Prefecture {
		in.ParentSlug = ""
	}
	if in.Plan != "" {
		if _, err := o.d.Billing.FindPlan(c.UserContext(), in.Plan); err != nil {
			if errs.Is(err, errs.NotFound) {
				err = errs.Field("plan", msgThereNoPlan, textutil.TruncateTrim(in.Plan, 40))
			}
			msg, ferr := FormError(c, err)
			if ferr != nil {
				return ferr
			}
			return o.newTenantPage(c, form, msg)
		}
	}
	run := o.d.Runs.Start(c.UserContext(), in.Slug, module.Principal(c).Identity.ID, func(ctx context.Context) (*tenants.Provisioned, error) {
		return o.d.Prov.Provision(ctx, in)
	})
	// Most refusals come back at once; wait a moment for them so that the form can say why.
	select {
	case <-run.Done():
	case <-time.After(2 * time.Second):
	}
	if over, err := run.Finished(); over && err != nil {
		t, ferr := o.d.Store.FindTenantBySlug(c.UserContext(), in.Slug)
		if ferr != nil || t.Status != tenants.StatusProvisioning || t.AdminCode != in.AdminCode {
			// Nothing was recorded: the request itself was refused.
			msg, ferr := FormError(c, err)
			if ferr != nil {
				return ferr
			}
			return o.newTenantPage(c, form, msg)
		}
	}
	return c.Redirect("/ops/tenants/"+in.Slug+"/provisioning", fiber.StatusSeeOther)
}

// resumeProvisioning resumes a tenant whose provisioning stopped, in the background.
func (o *opsPages) resumeProvisioning(c *fiber.Ctx) error {
	t, err := o.d.Store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusProvisioning {
		return errs.E(errs.Conflict, msgTenantNotProvisioning, t.Slug, t.Status)
	}
	o.d.Runs.Start(c.UserContext(), t.Slug, module.Principal(c).Identity.ID, func(ctx context.Context) (*tenants.Provisioned, error) {
		return o.d.Prov.Resume(ctx, t)
	})
	return c.Redirect("/ops/tenants/"+t.Slug+"/provisioning", fiber.StatusSeeOther)
}

// ProvStep is one provisioning step and where the tenant is with it: done, running, failed or
// pending.
type ProvStep struct {
	Name  string `json:"name"`
	State string `json:"state"`
}

// ProvProgress is the state of a tenant's provisioning, for the progress page and its poll.
type ProvProgress struct {
	Slug   string     `json:"slug"`
	Status string     `json:"status"`
	Steps  []ProvStep `json:"steps"`
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
func (o *opsPages) progress(c *fiber.Ctx, slug string) (*ProvProgress, *tenants.Tenant, error) {
	run := o.d.Runs.Find(slug)
	p := &ProvProgress{Slug: slug}
	running := false
	var runErr error
	if run != nil {
		over, err := run.Finished()
		running, runErr = !over, err
		if over && err == nil && run.Invitation() != "" && run.By() == module.Principal(c).Identity.ID {
			p.Invitation = o.d.BaseURL + "/invite/" + run.Invitation()
		}
	}
	p.Running = running
	t, err := o.d.Store.FindTenantBySlug(c.UserContext(), slug)
	if errs.Is(err, errs.NotFound) && run != nil {
		// The run has not recorded the tenant yet, or its request was refused.
		for _, n := range o.d.Prov.StepNames() {
			p.Steps = append(p.Steps, ProvStep{Name: n, State: "pending"})
		}
		p.Status, p.State = string(tenants.StatusProvisioning), "starting"
		if runErr != nil {
			p.Refused, p.State, p.Error = true, "refused", errs.MessageOf(runErr)
		}
		return p, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	p.Status = string(t.Status)
	names := o.d.Prov.StepNames()
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
		p.Steps = append(p.Steps, ProvStep{Name: n, State: st})
	}
	switch {
	case t.Status != tenants.StatusProvisioning && !running:
		// Done once the run has also recorded its result (the first admin's invitation): the
		// steps are done a moment before, and a page that stopped following then would miss it.
		p.Done, p.State = true, "done"
	case !running && (t.ProvisionError != "" || runErr != nil):
		p.Failed, p.State, p.Error = true, "failed", t.ProvisionError
		if p.Error == "" {
			p.Error = errs.MessageOf(runErr)
		}
	case !running && run == nil:
		// Stopped without a recorded error (a crash, or a run in another process): it can be resumed.
		p.Failed, p.State = true, "failed"
	default:
		p.State = "running"
	}
	return p, t, nil
}

// provisioning shows a tenant's provisioning steps; ops.js follows them through progressPoll
// until the tenant is active or a step fails.
func (o *opsPages) provisioning(c *fiber.Ctx) error {
	p, t, err := o.progress(c, c.Params("slug"))
	if err != nil {
		return err
	}
	return o.d.UI.Render(c, "ops_provisioning", fiber.Map{"Progress": p, "T": t, "CanAdmin": module.Principal(c).IsOperator(tenants.OperatorAdmin)})
}

// progressPoll is the progress page's poll: the provisioning state as JSON.
func (o *opsPages) progressPoll(c *fiber.Ctx) error {
	p, _, err := o.progress(c, c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p)
}

// OpsTenant is what the tenant detail page (ops_tenant) shows.
type OpsTenant struct {
	T        *tenants.Tenant
	Parent   *tenants.Tenant
	Children int
	Members  int
	Progress *ProvProgress
	Billing  *billing.Summary
}

func (o *opsPages) tenantPage(c *fiber.Ctx, t *tenants.Tenant, formErr, formName string, extra ...any) error {
	ctx := c.UserContext()
	d := &OpsTenant{T: t}
	var err error
	if t.ParentID != nil {
		if d.Parent, err = o.d.Store.FindTenantByID(ctx, *t.ParentID); err != nil {
			return err
		}
	}
	children, err := o.d.Store.Children(ctx, t)
	if err != nil {
		return err
	}
	d.Children = len(children)
	ms, err := o.d.Store.FindMembers(ctx, t.ID)
	if err != nil {
		return err
	}
	d.Members = len(ms)
	if d.Progress, _, err = o.progress(c, t.Slug); err != nil {
		return err
	}
	if d.Billing, err = o.d.Billing.FindSummary(ctx, t); err != nil {
		return err
	}
	plans, err := o.d.Billing.FindPlans(ctx)
	if err != nil {
		return err
	}
	next := clock.StartOfMonth(o.d.Store.Now()).AddDate(0, 1, 0).Format("2006-01")
	p := module.Principal(c)
	data := fiber.Map{"D": d, "Plans": plans, "NextMonth": next, "Error": formErr, "ErrorForm": formName,
		"CanAdmin": p.IsOperator(tenants.OperatorAdmin), "CanBill": p.IsOperator(tenants.OperatorAdmin, tenants.OperatorBilling)}
	if data["CanAdmin"] == true && (t.Status == tenants.StatusActive || t.Status == tenants.StatusSuspended) {
		if data["Handover"], err = o.d.Store.FindHandover(ctx, t); err != nil {
			return err
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		data[extra[i].(string)] = extra[i+1]
	}
	return o.d.UI.Render(c, "ops_tenant", data)
}

// tenantOf finds :slug for the operator's pages.
func (o *opsPages) tenantOf(c *fiber.Ctx) (*tenants.Tenant, error) {
	return o.d.Store.FindTenantBySlug(c.UserContext(), c.Params("slug"))
}

func (o *opsPages) tenant(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	return o.tenantPage(c, t, "", "")
}

// formFailed shows the tenant page again with a failed action's message (or returns an
// internal error for the error page); extra are more page data, as name, value pairs.
func (o *opsPages) formFailed(c *fiber.Ctx, t *tenants.Tenant, form string, err error, extra ...any) error {
	msg, ferr := FormError(c, err)
	if ferr != nil {
		return ferr
	}
	return o.tenantPage(c, t, msg, form, extra...)
}

// suspend suspends a tenant, as POST /api/v1/tenants/:slug/suspend does.
func (o *opsPages) suspend(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if len([]rune(reason)) > 500 {
		return o.formFailed(c, t, "suspend", errs.Field("reason", msgReasonLongerThanCharacters))
	}
	if err := o.d.Store.Suspend(c.UserContext(), t, reason); err != nil {
		return o.formFailed(c, t, "suspend", err)
	}
	return Done(c, "/ops/tenants/"+t.Slug, "ops.msg.suspended")
}

// reactivate resumes a suspended tenant, as POST /api/v1/tenants/:slug/resume does.
func (o *opsPages) reactivate(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	if err := o.d.Store.Reactivate(c.UserContext(), t); err != nil {
		return o.formFailed(c, t, "resume", err)
	}
	return Done(c, "/ops/tenants/"+t.Slug, "ops.msg.resumed")
}

// inviteAdmin invites a tenant admin on the tenant's behalf: how an operator replaces a first
// admin's lost invitation link (it is shown once, to whoever started provisioning) or helps a
// county whose admins have all left. The invitation is audited by the store; the link is shown
// once, here.
func (o *opsPages) inviteAdmin(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	if t.Status != tenants.StatusActive && t.Status != tenants.StatusSuspended {
		return o.formFailed(c, t, "invite", errs.E(errs.Conflict, msgInviteAdminsOnceProvisioned, t.NameZH, t.Status))
	}
	_, token, err := o.d.Store.Invite(c.UserContext(), t, c.FormValue("email"), c.FormValue("name"), tenants.TenantAdmin)
	if err != nil {
		return o.formFailed(c, t, "invite", err)
	}
	return o.tenantPage(c, t, "", "", "InviteURL", o.d.BaseURL+"/invite/"+token)
}

// offboard offboards a tenant after the operator typed its slug, as POST
// /api/v1/tenants/:slug/offboard does: the export goes to the object store, then the data goes.
func (o *opsPages) offboard(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	if _, err := o.d.Prov.OffboardTo(c.UserContext(), t, c.FormValue("confirm"), o.d.Archives); err != nil {
		return o.formFailed(c, t, "offboard", err)
	}
	return Done(c, "/ops", "ops.msg.offboarded")
}

// export downloads a tenant's export archive as stored (audited as tenant.export).
func (o *opsPages) export(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	return api.SendExport(c, o.d.Store, t, tenants.ExportOptions{}, o.d.ExportDir)
}

// exportClear downloads a tenant's export with personal data in clear, for the reason typed
// (audited), as POST /api/v1/tenants/:slug/export does; a refusal shows the tenant page again.
func (o *opsPages) exportClear(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	reason := formReason(c)
	if err := api.SendExport(c, o.d.Store, t, tenants.ExportOptions{PersonalData: tenants.PersonalDataClear, Reason: reason}, o.d.ExportDir); err != nil {
		return o.formFailed(c, t, "export", err, "Reason", reason)
	}
	return nil
}

// waive records the waiver of a tenant's export in clear, as POST
// /api/v1/tenants/:slug/export/waiver does.
func (o *opsPages) waive(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	if _, err := o.d.Store.WaiveHandover(c.UserContext(), t, formReason(c)); err != nil {
		return o.formFailed(c, t, "waiver", err)
	}
	return Done(c, "/ops/tenants/"+t.Slug, "export.msg.waived")
}

// changePlan changes a tenant's plan from a month, as POST
// /api/v1/billing/tenants/:slug/plan-changes does.
func (o *opsPages) changePlan(c *fiber.Ctx) error {
	t, err := o.tenantOf(c)
	if err != nil {
		return err
	}
	in := billing.PlanChangeRequest{Plan: c.FormValue("plan"), Effective: c.FormValue("effective"), Memo: strings.TrimSpace(c.FormValue("memo"))}
	if in.Plan == "" {
		return o.formFailed(c, t, "plan", errs.Field("plan", msgChoosePlanChange))
	}
	ch, err := o.d.Billing.ChangePlan(c.UserContext(), t, in)
	if err != nil {
		return o.formFailed(c, t, "plan", err)
	}
	if !ch.Recorded {
		return Done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_same")
	}
	return Done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_changed")
}
