package tenants

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/migrations"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// NewTenant is what an operator gives to create a tenant.
type NewTenant struct {
	Slug            string `json:"slug"`
	NameZH          string `json:"name_zh"`
	NameEN          string `json:"name_en"`
	Kind            Kind   `json:"kind"`
	AdminCode       string `json:"admin_code"`
	ParentSlug      string `json:"parent"`
	Plan            string `json:"plan"`
	FirstAdminEmail string `json:"first_admin_email"`
	// Cluster places the tenant on the named cluster; empty lets provisioning pick the one with
	// the most room (clusters.go).
	Cluster string `json:"cluster,omitempty"`
}

// Step is a provisioning step contributed from outside this package (the tenant's key in the
// secret store, its billing customer). Run must be idempotent: after a crash it runs again.
type Step interface {
	Name() string
	Run(ctx context.Context, t *Tenant) error
}

// Undo is implemented by steps that must be reversed at offboarding (the key is destroyed after
// the export, so that copies of the data left in backups are unreadable).
type Undo interface {
	Undo(ctx context.Context, t *Tenant) error
}

// Provisioned is the outcome of Provision.
type Provisioned struct {
	Tenant *Tenant `json:"tenant"`
	// InvitationToken is the first admin's invitation token, when this run created it. It is
	// shown once; only its hash is stored.
	InvitationToken string `json:"invitation_token,omitempty"`
	Resumed         bool   `json:"resumed"`
}

// Steps of the built-in state machine, in order; external steps run between seed and first_admin.
const (
	stepRecord     = "record"
	stepSchema     = "schema"
	stepMigrate    = "migrate"
	stepSeed       = "seed"
	stepFirstAdmin = "first_admin"
	stepDone       = "done"
)

// Provisioner runs the provisioning state machine. Each step is idempotent and its completion is
// recorded in control.tenants.provision_step, so a crash at any point and a re-run of the same
// request converge to one healthy tenant.
type Provisioner struct {
	store *Store
	steps []Step
	// crash, when set (tests only), is called after each step ran and before it is recorded.
	crash func(step string) error
	// observe, when set (Observe), hears how long each Provision and Resume took and how it
	// ended.
	observe func(op string, d time.Duration, err error)
}

// Observe has fn told of every Provision ("provision") and Resume ("resume") as it returns: how
// long it took and its error (for the operator's metrics).
func (p *Provisioner) Observe(fn func(op string, d time.Duration, err error)) { p.observe = fn }

func (p *Provisioner) observed(op string, start time.Time, err error) {
	if p.observe != nil {
		p.observe(op, time.Since(start), err)
	}
}

// NewProvisioner returns a provisioner running the built-in steps and then extra, in order.
func NewProvisioner(store *Store, extra ...Step) *Provisioner {
	return &Provisioner{store: store, steps: extra}
}

// StepNames lists every step in order, for progress displays.
func (p *Provisioner) StepNames() []string {
	names := []string{stepRecord, stepSchema, stepMigrate, stepSeed}
	for _, s := range p.steps {
		names = append(names, s.Name())
	}
	return append(names, stepFirstAdmin, stepDone)
}

// Validate checks a request without touching anything but the parent lookup.
func (p *Provisioner) validate(ctx context.Context, db bun.IDB, in *NewTenant) (*Tenant, error) {
	in.Slug = strings.TrimSpace(in.Slug)
	in.NameZH = strings.TrimSpace(in.NameZH)
	in.NameEN = strings.TrimSpace(in.NameEN)
	in.FirstAdminEmail = strings.ToLower(strings.TrimSpace(in.FirstAdminEmail))
	if err := ValidateSlug(in.Slug); err != nil {
		return nil, err
	}
	if in.NameZH == "" || len([]rune(in.NameZH)) > 100 {
		return nil, errs.Field("name_zh", msgChineseNameCharactersRequired)
	}
	if len([]rune(in.NameEN)) > 100 {
		return nil, errs.Field("name_en", msgEnglishNameLongerThanCharacters)
	}
	if in.FirstAdminEmail != "" && !validEmail(in.FirstAdminEmail) {
		return nil, errs.Field("first_admin_email", msgNotEmailAddress, textutil.Truncate(in.FirstAdminEmail, 80))
	}
	if in.Plan == "" {
		in.Plan = "starter"
	}
	if !validPlan(in.Plan) {
		return nil, errs.Field("plan", msgPlanNotValidUseLower, textutil.Truncate(in.Plan, 40))
	}
	var parent *Tenant
	if in.ParentSlug != "" {
		var err error
		if parent, err = findTenantBySlug(ctx, db, in.ParentSlug); err != nil {
			return nil, errs.Field("parent", msgParentTenantDoesNotExist, textutil.Truncate(in.ParentSlug, 60))
		}
		if parent.Kind != Prefecture {
			return nil, errs.Field("parent", msgParentOnlyPrefectureCanHave, parent.Slug, parent.Kind)
		}
	}
	switch in.Kind {
	case Prefecture:
		if parent != nil {
			return nil, errs.Field("parent", msgPrefectureHasNoParentTenant)
		}
	case County, City, District:
	default:
		return nil, errs.Field("kind", msgKindNotOnePrefectureCounty, textutil.Truncate(string(in.Kind), 40))
	}
	if err := ValidateAdminCode(in.AdminCode); err != nil {
		return nil, err
	}
	if err := checkDivision(ctx, db, in.AdminCode, in.Kind, parent); err != nil {
		return nil, err
	}
	now := p.store.now()
	t := &Tenant{
		ID: uuid.New(), Slug: in.Slug, NameZH: in.NameZH, NameEN: in.NameEN, Kind: in.Kind,
		AdminCode: in.AdminCode, Plan: in.Plan, Status: StatusProvisioning,
		SchemaName: schemaFor(in.AdminCode), DBRole: p.store.rolePrefix + "_" + schemaFor(in.AdminCode),
		FirstAdminEmail: in.FirstAdminEmail, CreatedAt: now, UpdatedAt: now,
	}
	if parent != nil {
		t.ParentID = &parent.ID
	}
	if !dbx.ValidIdent(t.SchemaName) || !dbx.ValidIdent(t.DBRole) || !dbx.ValidIdent(t.ReadOnlyRole()) {
		return nil, errs.Field("admin_code", msgAdministrativeCodeCannotNameSchema, in.AdminCode)
	}
	return t, nil
}

// Provision creates the tenant described by in, or resumes its provisioning if an earlier run
// stopped part-way. A request for a slug or admin code that a different, live tenant holds is a
// conflict.
func (p *Provisioner) Provision(ctx context.Context, in NewTenant) (res *Provisioned, err error) {
	defer func(start time.Time) { p.observed("provision", start, err) }(time.Now())
	defer p.store.invalidate(ctx, invalidTenants, "")
	var t *Tenant
	resumed := false
	err = p.store.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		want, err := p.validate(ctx, tx, &in)
		if err != nil {
			return err
		}
		var existing []*Tenant
		if err := tx.NewSelect().Model(&existing).
			Where("status <> ?", StatusDeleted).
			Where("(slug = ? OR admin_code = ?)", want.Slug, want.AdminCode).Scan(ctx); err != nil {
			return err
		}
		for _, e := range existing {
			if e.Slug != want.Slug || e.AdminCode != want.AdminCode || e.Kind != want.Kind || !samePtr(e.ParentID, want.ParentID) {
				if e.Slug == want.Slug {
					return errs.Field("slug", msgSlugAlreadyUsedTenant, want.Slug, e.NameZH, e.AdminCode)
				}
				return errs.Field("admin_code", msgAdministrativeCodeAlreadyUsedTenant, want.AdminCode, e.NameZH, e.Slug)
			}
		}
		if len(existing) == 1 {
			// The same request again: resume it if it stopped part-way.
			if e := existing[0]; e.Status != StatusProvisioning {
				return errs.E(errs.Conflict, msgTenantAlreadyExists, e.Slug, e.Status)
			}
			t, resumed = existing[0], true
			return nil
		}
		t = want
		t.ProvisionStep = stepRecord
		if t.Cluster, err = p.store.placeNew(ctx, tx, in.Cluster); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(t).Exec(ctx); err != nil {
			return err
		}
		return p.store.Audit(ctx, tx, "tenant.create", &t.ID, t.Slug, in)
	})
	if err != nil {
		return nil, err
	}
	if p.crash != nil {
		if err := p.crash(stepRecord); err != nil {
			return nil, err
		}
	}
	res, err = p.resume(ctx, t)
	if res != nil {
		res.Resumed = resumed
	}
	return res, err
}

// Resume runs the remaining steps of a tenant in provisioning.
func (p *Provisioner) Resume(ctx context.Context, t *Tenant) (res *Provisioned, err error) {
	defer func(start time.Time) { p.observed("resume", start, err) }(time.Now())
	return p.resume(ctx, t)
}

func (p *Provisioner) resume(ctx context.Context, t *Tenant) (*Provisioned, error) {
	defer p.store.invalidate(ctx, invalidTenants, "")
	if t.Status != StatusProvisioning {
		return nil, errs.E(errs.Conflict, msgTenantNotProvisioning, t.Slug, t.Status)
	}
	res := &Provisioned{Tenant: t}
	names := p.StepNames()
	start := slices.Index(names, t.ProvisionStep) + 1
	for _, name := range names[start:] {
		err := p.run(ctx, name, t, res)
		if err == nil && p.crash != nil {
			err = p.crash(name)
		}
		if err != nil {
			p.recordError(ctx, t, name, err)
			return nil, fmt.Errorf("provision %s, step %s: %w", t.Slug, name, err)
		}
		if name == stepDone {
			break
		}
		if err := p.record(ctx, t, name); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (p *Provisioner) run(ctx context.Context, name string, t *Tenant, res *Provisioned) error {
	s := p.store
	switch name {
	case stepRecord:
		return nil
	case stepSchema:
		return s.createSchema(ctx, t)
	case stepMigrate:
		_, err := s.migrateTenant(ctx, t)
		return err
	case stepSeed:
		return s.tenantTx(ctx, t, Write, func(ctx context.Context, db bun.IDB) error {
			now := s.now()
			_, err := db.NewInsert().Model(&[]Setting{
				{Key: "locale", Value: "zh-CN", UpdatedAt: now},
				{Key: "timezone", Value: clock.ChinaZoneName, UpdatedAt: now},
				{Key: "admin_code", Value: t.AdminCode, UpdatedAt: now},
			}).On("CONFLICT (key) DO NOTHING").Exec(ctx)
			return err
		})
	case stepFirstAdmin:
		if t.FirstAdminEmail == "" {
			return nil
		}
		return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
			id := new(Identity)
			err := tx.NewSelect().Model(id).Where("lower(email) = ?", t.FirstAdminEmail).Scan(ctx)
			if err == nil {
				_, err = tx.NewInsert().Model(&Membership{IdentityID: id.ID, TenantID: t.ID, Role: TenantAdmin, CreatedAt: s.now()}).
					On("CONFLICT DO NOTHING").Exec(ctx)
				return err
			}
			if err = dbx.Translate(err); !isNotFound(err) {
				return err
			}
			_, token, err := s.createInvitation(ctx, tx, t.ID, t.FirstAdminEmail, "", TenantAdmin)
			res.InvitationToken = token
			return err
		})
	case stepDone:
		return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
			t.Status, t.ProvisionStep, t.ProvisionError, t.UpdatedAt = StatusActive, stepDone, "", s.now()
			_, err := tx.NewUpdate().Model(t).Column("status", "provision_step", "provision_error", "updated_at").WherePK().Exec(ctx)
			return err
		})
	}
	for _, st := range p.steps {
		if st.Name() == name {
			return st.Run(ctx, t)
		}
	}
	return errs.E(errs.Internal, msgUnknownProvisioningStep, name)
}

func (p *Provisioner) record(ctx context.Context, t *Tenant, step string) error {
	t.ProvisionStep, t.ProvisionError, t.UpdatedAt = step, "", p.store.now()
	_, err := p.store.db.NewUpdate().Model(t).Column("provision_step", "provision_error", "updated_at").WherePK().Exec(ctx)
	return dbx.Translate(err)
}

func (p *Provisioner) recordError(ctx context.Context, t *Tenant, step string, cause error) {
	// Operators read this to decide what to fix before resuming; it names the real cause.
	msg := textutil.Truncate(fmt.Sprintf("step %s: %v", step, cause), 500)
	ctx = context.WithoutCancel(ctx)
	if _, err := p.store.db.NewUpdate().Model((*Tenant)(nil)).
		Set("provision_error = ?", msg).Set("updated_at = ?", p.store.now()).
		Where("id = ? AND status = ?", t.ID, StatusProvisioning).Exec(ctx); err != nil {
		p.store.log.Error("record provisioning error", "tenant", t.Slug, "err", err)
	}
	p.store.log.Error("provisioning failed", "tenant", t.Slug, "step", step, "err", cause)
}

// ResumeAll resumes every tenant left in provisioning, for start-up after a crash.
func (p *Provisioner) ResumeAll(ctx context.Context) error {
	ts, err := p.store.FindTenants(ctx, TenantFilter{Status: StatusProvisioning})
	if err != nil {
		return err
	}
	var first error
	for _, t := range ts {
		if _, err := p.Resume(ctx, t); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// createSchema makes the tenant's schema and its two roles (PostgreSQL), or its file (SQLite).
// Every statement is idempotent.
func (s *Store) createSchema(ctx context.Context, t *Tenant) error {
	if s.dialect == dbx.SQLite {
		return s.tenantTx(ctx, t, Write, func(context.Context, bun.IDB) error { return nil })
	}
	schema, rw, ro := dbx.QuoteIdent(t.SchemaName), dbx.QuoteIdent(t.DBRole), dbx.QuoteIdent(t.ReadOnlyRole())
	lit := func(s string) string { return "'" + s + "'" } // only validated identifiers reach here
	ddl := `
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ` + lit(t.DBRole) + `) THEN CREATE ROLE ` + rw + ` NOLOGIN; END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ` + lit(t.ReadOnlyRole()) + `) THEN CREATE ROLE ` + ro + ` NOLOGIN; END IF;
END $$;
GRANT ` + rw + `, ` + ro + ` TO CURRENT_USER;
CREATE SCHEMA IF NOT EXISTS ` + schema + ` AUTHORIZATION ` + rw + `;
REVOKE ALL ON SCHEMA ` + schema + ` FROM PUBLIC;
GRANT USAGE ON SCHEMA ` + schema + ` TO ` + ro + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + rw + ` IN SCHEMA ` + schema + ` GRANT SELECT ON TABLES TO ` + ro + `;
ALTER DEFAULT PRIVILEGES FOR ROLE ` + rw + ` IN SCHEMA ` + schema + ` GRANT SELECT ON SEQUENCES TO ` + ro + `;
`
	return s.clusterTx(ctx, t.Cluster, func(ctx context.Context, tx bun.Tx) error {
		// Serialise role creation across processes: CREATE ROLE is not IF NOT EXISTS.
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7032)"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, ddl)
		return err
	})
}

// migrateTenant applies the tenant set's pending migrations to t in one transaction.
func (s *Store) migrateTenant(ctx context.Context, t *Tenant) ([]string, error) {
	var applied []string
	err := s.tenantTx(ctx, t, Write, func(ctx context.Context, db bun.IDB) error {
		if s.dialect == dbx.Postgres {
			if _, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", t.SchemaName); err != nil {
				return err
			}
		}
		var err error
		applied, err = migrations.Apply(ctx, db, "schema_migrations", s.tenantSet, s.now())
		return err
	})
	return applied, err
}

// Setting is one key of a tenant's own configuration, stored in its schema.
type Setting struct {
	bun.BaseModel `bun:"table:settings"`

	Key       string    `bun:"key,pk" json:"key"`
	Value     string    `bun:"value" json:"value"`
	UpdatedAt time.Time `bun:"updated_at" json:"updated_at"`
	UpdatedBy string    `bun:"updated_by" json:"updated_by,omitempty"`
}

func samePtr(a, b *uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func validEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && at < len(s)-3 && strings.Contains(s[at:], ".") && len(s) <= 254 && !strings.ContainsAny(s, " \t\r\n<>\"'")
}

func validPlan(s string) bool {
	return len(s) <= 40 && s != "" && dbx.ValidIdent(s)
}

// ValidSettingKey checks a setting key.
func ValidSettingKey(k string) bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}
