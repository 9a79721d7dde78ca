package tenants

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Invitation asks a person, by email, to join a tenant with a role. The token is shown once, to
// the inviter; only its hash is stored.
type Invitation struct {
	bun.BaseModel `bun:"table:control.invitations"`

	ID         uuid.UUID  `bun:"id,pk,type:uuid" json:"id"`
	TenantID   uuid.UUID  `bun:"tenant_id,type:uuid" json:"tenant_id"`
	Email      string     `bun:"email" json:"email"`
	Name       string     `bun:"name" json:"name"`
	Role       Role       `bun:"role" json:"role"`
	TokenHash  string     `bun:"token_hash" json:"-"`
	InvitedBy  *uuid.UUID `bun:"invited_by,type:uuid" json:"invited_by,omitempty"`
	CreatedAt  time.Time  `bun:"created_at" json:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at" json:"expires_at"`
	AcceptedAt *time.Time `bun:"accepted_at" json:"accepted_at,omitempty"`
}

// InvitationTTL is how long an invitation stays valid.
const InvitationTTL = 14 * 24 * time.Hour

// NewToken returns a random token with prefix and the hex SHA-256 of it, which is what is stored.
func NewToken(prefix string) (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a session, API or invitation token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// createInvitation inserts an open invitation unless one for the same tenant, email and role is
// open already; token is empty in that case.
func (s *Store) createInvitation(ctx context.Context, db bun.IDB, tenant uuid.UUID, email, name string, role Role) (*Invitation, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	existing := new(Invitation)
	err := db.NewSelect().Model(existing).
		Where("tenant_id = ? AND lower(email) = ? AND role = ? AND accepted_at IS NULL", tenant, email, role).
		Limit(1).Scan(ctx)
	if err == nil {
		return existing, "", nil
	}
	if err = dbx.Translate(err); !isNotFound(err) {
		return nil, "", err
	}
	token, hash := NewToken("inv_")
	now := s.now()
	inv := &Invitation{
		ID: uuid.New(), TenantID: tenant, Email: email, Name: name, Role: role, TokenHash: hash,
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL),
	}
	if p := PrincipalFrom(ctx); p != nil && p.Identity != nil {
		id := p.Identity.ID
		inv.InvitedBy = &id
	}
	if _, err := db.NewInsert().Model(inv).Exec(ctx); err != nil {
		return nil, "", dbx.Translate(err)
	}
	return inv, token, nil
}
