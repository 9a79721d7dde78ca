package tenants

import (
	"regexp"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Kind is the administrative level of a tenant.
type Kind string

// The kinds of tenant.
const (
	Prefecture Kind = "prefecture"
	County     Kind = "county"
	City       Kind = "city" // a county-level city (县级市)
	District   Kind = "district"
)

// Status is where a tenant is in its life: provisioning → active ⇄ suspended → offboarding → deleted.
type Status string

// The statuses.
const (
	StatusProvisioning Status = "provisioning"
	StatusActive       Status = "active"
	StatusSuspended    Status = "suspended"
	StatusOffboarding  Status = "offboarding"
	StatusDeleted      Status = "deleted"
)

// Tenant is a prefecture or county-level unit with its own isolated schema (or SQLite file).
type Tenant struct {
	bun.BaseModel `bun:"table:control.tenants"`

	ID         uuid.UUID  `bun:"id,pk,type:uuid" json:"id"`
	Slug       string     `bun:"slug" json:"slug"`
	NameZH     string     `bun:"name_zh" json:"name_zh"`
	NameEN     string     `bun:"name_en" json:"name_en"`
	Kind       Kind       `bun:"kind" json:"kind"`
	AdminCode  string     `bun:"admin_code" json:"admin_code"`
	ParentID   *uuid.UUID `bun:"parent_id,type:uuid" json:"parent_id"`
	Plan       string     `bun:"plan" json:"plan"`
	Status     Status     `bun:"status" json:"status"`
	SchemaName string     `bun:"schema_name" json:"schema_name"`
	DBRole     string     `bun:"db_role" json:"db_role"`
	// Cluster names the PostgreSQL cluster that holds the tenant's schema (MainCluster: the
	// control plane's own; others are configured by name, Config.Clusters).
	Cluster string `bun:"cluster" json:"cluster"`
	// WriteFreeze, when not empty, says why the tenant's writes are paused (a move between
	// clusters): the gate refuses writes with errs.Unavailable and a Retry-After; reads go on.
	WriteFreeze     string     `bun:"write_freeze" json:"write_freeze,omitempty"`
	FirstAdminEmail string     `bun:"first_admin_email" json:"first_admin_email,omitempty"`
	ProvisionStep   string     `bun:"provision_step" json:"provision_step,omitempty"`
	ProvisionError  string     `bun:"provision_error" json:"provision_error,omitempty"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
	UpdatedAt       time.Time  `bun:"updated_at" json:"updated_at"`
	DeletedAt       *time.Time `bun:"deleted_at" json:"deleted_at,omitempty"`
}

// Name returns the tenant's display name in the given locale ("en" or anything else for Chinese).
func (t *Tenant) Name(locale string) string {
	if strings.HasPrefix(locale, "en") && t.NameEN != "" {
		return t.NameEN
	}
	return t.NameZH
}

// ReadOnlyRole is the database role for read-only access to the tenant's schema.
func (t *Tenant) ReadOnlyRole() string { return t.DBRole + "_ro" }

var slugRe = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// ValidateSlug checks a tenant slug: 2 to 40 characters of lower-case letters, digits and single
// hyphens, starting with a letter. Slugs appear in URLs and in file names, never in SQL.
func ValidateSlug(s string) error {
	if len(s) < 2 || len(s) > 40 || !slugRe.MatchString(s) {
		return errs.Field("slug", msgSlugNotValidUseLower, textutil.Truncate(s, 60))
	}
	return nil
}

// ValidateAdminCode checks the form of a GB/T 2260 code: exactly six digits. Provisioning then
// checks it against the reference divisions (ref.admin_divisions): that it exists, that its level
// fits the tenant's kind and that it lies under the parent tenant's code (checkDivision).
func ValidateAdminCode(code string) error {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return errs.Field("admin_code", msgAdministrativeCodeNotValidGb, textutil.Truncate(code, 60))
	}
	return nil
}

// schemaFor derives the schema name from a validated admin code.
func schemaFor(adminCode string) string { return "t_" + adminCode }
