package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/billing"
	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
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
		return errs.Field("status", msgStatusNotOneProvisioningActive, truncateText(string(status), 20))
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
	return a.render(c, "ops_tenants", fiber.Map{"Rows": rows, "Prefectures": prefectures, "Statuses": tenantStatuses,
		"Status": string(status), "Parent": parent, "CanAdmin": principal(c).IsOperator(tenants.OperatorAdmin),
		"CanBill": principal(c).IsOperator(tenants.OperatorAdmin, tenants.OperatorBilling)})
}

// division is a reference division as the onboarding wizard offers it.
type division struct {
	tenants.Division
	// Taken is set when a live tenant already has the code.
	Taken bool
}

// divisions reads the reference divisions of one province (two digits) below province level,
// marking those already onboarded; none without a province. The whole list has some 3,200, too
// many for one list, so the wizard shows one province at a time.
func (a *App) divisions(ctx context.Context, province string, live []*tenants.Tenant) ([]division, error) {
	if province == "" {
		return nil, nil
	}
	ds, err := a.store.FindDivisions(ctx, tenants.DivisionFilter{Province: province})
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, t := range live {
		taken[t.AdminCode] = true
	}
	out := make([]division, len(ds))
	for i, d := range ds {
		out[i] = division{Division: d, Taken: taken[d.Code]}
	}
	return out, nil
}

// newTenantForm is what the onboarding wizard holds, also to show it again after an error.
// Province (two digits) is the province whose divisions step 1 lists.
type newTenantForm struct {
	Province, Division, Parent, AdminCode, Slug, NameZH, NameEN, Kind, Plan, Email string
}

// wizardProvince is the province whose divisions the wizard lists: the one asked for, else that
// of the chosen division or of the code typed, else the parent prefecture's, else the first
// prefecture tenant's; "" when none of these says.
func wizardProvince(form newTenantForm, live []*tenants.Tenant) string {
	digits := func(s string, n int) bool { return len(s) == n && strings.Trim(s, "0123456789") == "" }
	switch {
	case digits(form.Province, 2):
		return form.Province
	case digits(form.Division, 6):
		return form.Division[:2]
	case digits(form.AdminCode, 6):
		return form.AdminCode[:2]
	}
	for _, t := range live {
		if t.Kind == tenants.Prefecture && t.Slug == form.Parent {
			return t.AdminCode[:2]
		}
	}
	for _, t := range live {
		if t.Kind == tenants.Prefecture {
			return t.AdminCode[:2]
		}
	}
	return ""
}

func (a *App) newTenantPage(c *fiber.Ctx, form newTenantForm, formErr string) error {
	ctx := c.UserContext()
	live, err := a.store.FindTenants(ctx, tenants.TenantFilter{})
	if err != nil {
		return err
	}
	form.Province = wizardProvince(form, live)
	divs, err := a.divisions(ctx, form.Province, live)
	if err != nil {
		return err
	}
	provinces, err := a.store.FindDivisions(ctx, tenants.DivisionFilter{Level: tenants.LevelProvince})
	if err != nil {
		return err
	}
	plans, err := a.billing.FindPlans(ctx)
	if err != nil {
		return err
	}
	var prefectures []*tenants.Tenant
	for _, t := range live {
		if t.Kind == tenants.Prefecture {
			prefectures = append(prefectures, t)
		}
	}
	return a.render(c, "ops_new", fiber.Map{"Form": form, "Error": formErr, "Divisions": divs, "Provinces": provinces,
		"Prefectures": prefectures, "Plans": plans, "Kinds": []tenants.Kind{tenants.County, tenants.City, tenants.District, tenants.Prefecture}})
}

// webOpsNewTenant shows the onboarding wizard for ?province= (two digits); ?division=code fills it
// from the reference data (name, code, kind, and the parent prefecture when it is a tenant
// already), unless ?province= names another province: then the operator switched province, and
// the wizard lists that one.
func (a *App) webOpsNewTenant(c *fiber.Ctx) error {
	form := newTenantForm{Kind: string(tenants.County), Plan: "starter", Parent: c.Query("parent"), Province: c.Query("province")}
	code := c.Query("division")
	if tenants.ValidateAdminCode(code) == nil && (form.Province == "" || form.Province == code[:2]) {
		d, err := a.store.FindDivisionByCode(c.UserContext(), code)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err == nil && d.Level != tenants.LevelProvince {
			live, err := a.store.FindTenants(c.UserContext(), tenants.TenantFilter{})
			if err != nil {
				return err
			}
			form.Province, form.Division, form.AdminCode, form.NameZH, form.NameEN, form.Kind = d.Code[:2], d.Code, d.Code, d.NameZH, d.NameEN, string(d.Kind())
			form.Slug = slugFrom(d.NameEN)
			for _, t := range live {
				if t.Kind == tenants.Prefecture && t.AdminCode == d.ParentCode {
					form.Parent = t.Slug
				}
			}
		}
	}
	return a.newTenantPage(c, form, "")
}

// slugFrom suggests a slug from an English name: "Yao'an" → "yaoan".
func slugFrom(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// provJob is a provisioning run the console started in the background, so that its page can
// follow the steps. It keeps the first admin's invitation link (shown once, to the operator who
// started the run) until it is collected or an hour has passed.
type provJob struct {
	by         uuid.UUID
	started    time.Time
	done       chan struct{}
	err        error
	invitation string
}

// provJobs are the console's provisioning runs, by tenant slug. The App owns them: Serve's
// shutdown waits for the runs still going and cuts them at its bound, and Close cuts any left,
// so that no run outlives the database. A run cut part-way is safe: provisioning records each
// step and resumes where it stopped (at the next start, or from the console).
type provJobs struct {
	runs tasks.Group
	// ctx is the runs' context; cancel cuts them.
	ctx    context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	jobs map[string]*provJob
}

func newProvJobs() *provJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &provJobs{ctx: ctx, cancel: cancel, jobs: map[string]*provJob{}}
}

// start runs fn in the background as slug's job unless one is still running; it returns the job.
// The run keeps the values of ctx (the request's), not its end. After stop, the job it returns
// has failed at once.
func (p *provJobs) start(ctx context.Context, slug string, by uuid.UUID, fn func(ctx context.Context) (*tenants.Provisioned, error)) *provJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s, j := range p.jobs {
		if time.Since(j.started) > time.Hour {
			delete(p.jobs, s)
		}
	}
	if j := p.jobs[slug]; j != nil {
		select {
		case <-j.done:
		default:
			return j
		}
	}
	j := &provJob{by: by, started: time.Now(), done: make(chan struct{})}
	ok := p.runs.Go(func() {
		defer close(j.done)
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		defer context.AfterFunc(p.ctx, cancel)()
		res, err := fn(rctx)
		j.err = err
		if res != nil && res.InvitationToken != "" {
			j.invitation = res.InvitationToken
		}
	})
	if !ok {
		j.err = errs.E(errs.Unavailable, msgServerShuttingDownStartAgain)
		close(j.done)
		return j
	}
	p.jobs[slug] = j
	return j
}

// stop refuses new runs and waits for those running until ctx ends; then it cancels the rest
// and waits up to cutWait for them to return. It returns the slugs of the runs it cut.
func (p *provJobs) stop(ctx context.Context) (cut []string, err error) {
	defer p.cancel()
	p.runs.Close()
	if p.runs.Wait(ctx) {
		return nil, nil
	}
	cut = p.running()
	p.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), cutWait)
	defer cancel()
	if !p.runs.Wait(ctx) {
		return cut, fmt.Errorf("provisioning of %v still running %s after it was cut", p.running(), cutWait)
	}
	return cut, nil
}

// running returns the slugs of the runs that have not ended, sorted.
func (p *provJobs) running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var slugs []string
	for s, j := range p.jobs {
		if over, _ := j.finished(); !over {
			slugs = append(slugs, s)
		}
	}
	slices.Sort(slugs)
	return slugs
}

func (p *provJobs) get(slug string) *provJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jobs[slug]
}

// finished reports whether j has ended, with its error.
func (j *provJob) finished() (bool, error) {
	select {
	case <-j.done:
		return true, j.err
	default:
		return false, nil
	}
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
				err = errs.Field("plan", msgThereNoPlan, truncateText(in.Plan, 40))
			}
			msg, ferr := formError(c, err)
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
			msg, ferr := formError(c, err)
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
	return a.render(c, "ops_provisioning", fiber.Map{"Progress": p, "T": t, "CanAdmin": principal(c).IsOperator(tenants.OperatorAdmin)})
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
	Billing  *billingSummary
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
	if d.Billing, err = a.billingSummary(ctx, t); err != nil {
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
	return a.render(c, "ops_tenant", data)
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
	msg, ferr := formError(c, err)
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
	return done(c, "/ops/tenants/"+t.Slug, "ops.msg.suspended")
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
	return done(c, "/ops/tenants/"+t.Slug, "ops.msg.resumed")
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
	return done(c, "/ops", "ops.msg.offboarded")
}

// webOpsExport downloads a tenant's export archive (audited as tenant.export).
func (a *App) webOpsExport(c *fiber.Ctx) error {
	t, err := a.opsTenantOf(c)
	if err != nil {
		return err
	}
	return a.sendExport(c, t)
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
		return done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_same")
	}
	return done(c, "/ops/tenants/"+t.Slug, "ops.msg.plan_changed")
}
