package tenants

import (
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Identity is a person or program that can log in. Identities live in the control plane; what
// they may do in a tenant comes from memberships.
type Identity struct {
	bun.BaseModel `bun:"table:control.identities"`

	ID           uuid.UUID  `bun:"id,pk,type:uuid" json:"id"`
	Email        string     `bun:"email" json:"email"`
	Name         string     `bun:"name" json:"name"`
	PasswordHash string     `bun:"password_hash" json:"-"`
	OperatorRole Role       `bun:"operator_role" json:"operator_role,omitempty"`
	Status       string     `bun:"status" json:"status"`
	Locale       string     `bun:"locale" json:"locale"`
	CreatedAt    time.Time  `bun:"created_at" json:"created_at"`
	LastLoginAt  *time.Time `bun:"last_login_at" json:"last_login_at,omitempty"`
}

// Membership gives an identity one role in one tenant.
type Membership struct {
	bun.BaseModel `bun:"table:control.memberships"`

	IdentityID uuid.UUID `bun:"identity_id,pk,type:uuid" json:"identity_id"`
	TenantID   uuid.UUID `bun:"tenant_id,pk,type:uuid" json:"tenant_id"`
	Role       Role      `bun:"role,pk" json:"role"`
	CreatedAt  time.Time `bun:"created_at" json:"created_at"`
}
