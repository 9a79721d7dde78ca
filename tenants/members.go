package tenants

import (
	"context"
	"slices"
	"strings"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Member is an identity with its roles in one tenant.
type Member struct {
	Identity *Identity `json:"identity"`
	Roles    []Role    `json:"roles"`
}

// Invite invites email to tenant with role; the returned token is shown once. Inviting someone
// who already has an account works the same way: they accept with their own password.
func (s *Store) Invite(ctx context.Context, t *Tenant, email, name string, role Role) (*Invitation, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !validEmail(email) {
		return nil, "", errs.Field("email", msgNotEmailAddress, textutil.Truncate(email, 80))
	}
	if err := ValidTenantRole(role, t.Kind); err != nil {
		return nil, "", err
	}
	if len([]rune(name)) > 100 {
		return nil, "", errs.Field("name", msgNameLongerThanCharacters)
	}
	var inv *Invitation
	var token string
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		// A repeated invitation replaces the open one, so the new token is the one that works.
		if _, err := tx.NewDelete().Model((*Invitation)(nil)).
			Where("tenant_id = ? AND lower(email) = ? AND role = ? AND accepted_at IS NULL", t.ID, email, role).Exec(ctx); err != nil {
			return err
		}
		var err error
		if inv, token, err = s.createInvitation(ctx, tx, t.ID, email, name, role); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "member.invite", &t.ID, email, map[string]any{"role": role})
	})
	return inv, token, err
}

// FindInvitations lists the open invitations of a tenant.
func (s *Store) FindInvitations(ctx context.Context, tenant uuid.UUID) ([]*Invitation, error) {
	var out []*Invitation
	err := s.reader.NewSelect().Model(&out).Where("tenant_id = ? AND accepted_at IS NULL", tenant).
		OrderExpr("created_at DESC").Scan(ctx)
	return out, dbx.Translate(err)
}

// AcceptInvitation turns an invitation into a membership. Someone without an account creates one
// with name and password; someone with an account proves it with their password.
func (s *Store) AcceptInvitation(ctx context.Context, token, name, password string) (*Identity, *Tenant, error) {
	var id *Identity
	var t *Tenant
	err := s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		inv := new(Invitation)
		if err := tx.NewSelect().Model(inv).Where("token_hash = ?", HashToken(token)).Scan(ctx); err != nil {
			if isNotFound(dbx.Translate(err)) {
				return errs.E(errs.NotFound, msgInvitationDoesNotExistWas)
			}
			return err
		}
		if inv.AcceptedAt != nil {
			return errs.E(errs.Conflict, msgInvitationHasBeenAcceptedAlready)
		}
		now := s.now()
		if now.After(inv.ExpiresAt) {
			return errs.E(errs.Gone, msgInvitationExpiredAskNewOne, inv.ExpiresAt.Format("2006-01-02"))
		}
		var err error
		if t, err = findTenantByID(ctx, tx, inv.TenantID); err != nil {
			return err
		}
		if t.Status == StatusDeleted || t.Status == StatusOffboarding {
			return errs.E(errs.Gone, msgTenantInvitationNoLongerExists)
		}
		id = new(Identity)
		err = tx.NewSelect().Model(id).Where("lower(email) = ?", inv.Email).Scan(ctx)
		switch {
		case err == nil:
			if !CheckPassword(id.PasswordHash, password) {
				return errs.Field("password", msgAccountExistsEnterPasswordAccept, inv.Email)
			}
		case isNotFound(dbx.Translate(err)):
			if strings.TrimSpace(name) == "" {
				name = inv.Name
			}
			if id, err = s.createIdentity(ctx, tx, NewIdentity{Email: inv.Email, Name: name, Password: password}); err != nil {
				return err
			}
		default:
			return err
		}
		if _, err := tx.NewInsert().Model(&Membership{IdentityID: id.ID, TenantID: t.ID, Role: inv.Role, CreatedAt: now}).
			On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		inv.AcceptedAt = &now
		if _, err := tx.NewUpdate().Model(inv).Column("accepted_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.Audit(WithPrincipal(ctx, &Principal{Identity: id}), tx, "member.accept", &t.ID, id.Email, map[string]any{"role": inv.Role})
	})
	return id, t, err
}

// FindMembers lists the identities with a role in tenant, by email.
func (s *Store) FindMembers(ctx context.Context, tenant uuid.UUID) ([]*Member, error) {
	var ms []Membership
	if err := s.reader.NewSelect().Model(&ms).Where("tenant_id = ?", tenant).Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	roles := map[uuid.UUID][]Role{}
	var ids []uuid.UUID
	for _, m := range ms {
		if roles[m.IdentityID] == nil {
			ids = append(ids, m.IdentityID)
		}
		roles[m.IdentityID] = append(roles[m.IdentityID], m.Role)
	}
	if len(ids) == 0 {
		return []*Member{}, nil
	}
	var idents []*Identity
	if err := s.reader.NewSelect().Model(&idents).Where("id IN (?)", bun.List(ids)).OrderExpr("email").Scan(ctx); err != nil {
		return nil, dbx.Translate(err)
	}
	out := make([]*Member, 0, len(idents))
	for _, id := range idents {
		rs := roles[id.ID]
		slices.Sort(rs)
		out = append(out, &Member{Identity: id, Roles: rs})
	}
	return out, nil
}

// SetMemberRoles replaces identity's roles in tenant (an empty list removes the member). The last
// tenant admin cannot be removed: a tenant must keep someone who can administer it.
func (s *Store) SetMemberRoles(ctx context.Context, t *Tenant, identity uuid.UUID, roles []Role) error {
	roles = slices.Compact(slices.Sorted(slices.Values(roles)))
	defer s.invalidate(ctx, invalidIdentity, identity.String()) // cached principals (auth_cache.go) drop the old roles
	for _, r := range roles {
		if err := ValidTenantRole(r, t.Kind); err != nil {
			return err
		}
	}
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		var old []Membership
		if err := tx.NewSelect().Model(&old).Where("tenant_id = ? AND identity_id = ?", t.ID, identity).Scan(ctx); err != nil {
			return err
		}
		if len(old) == 0 {
			return errs.E(errs.NotFound, msgNoMember, identity, t.Slug)
		}
		wasAdmin := slices.ContainsFunc(old, func(m Membership) bool { return m.Role == TenantAdmin })
		if wasAdmin && !slices.Contains(roles, TenantAdmin) {
			n, err := tx.NewSelect().Model((*Membership)(nil)).Where("tenant_id = ? AND role = ?", t.ID, TenantAdmin).Count(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return errs.E(errs.Conflict, msgLastTenantAdminMakeSomeone, t.Slug)
			}
		}
		if _, err := tx.NewDelete().Model((*Membership)(nil)).Where("tenant_id = ? AND identity_id = ?", t.ID, identity).Exec(ctx); err != nil {
			return err
		}
		now := s.now()
		for _, r := range roles {
			if _, err := tx.NewInsert().Model(&Membership{IdentityID: identity, TenantID: t.ID, Role: r, CreatedAt: now}).Exec(ctx); err != nil {
				return err
			}
		}
		return s.Audit(ctx, tx, "member.roles", &t.ID, identity.String(), map[string]any{"roles": roles})
	})
}

// Grant adds role in tenant to identity directly (operators, the demo seed, the CLI).
func (s *Store) Grant(ctx context.Context, t *Tenant, identity uuid.UUID, role Role) error {
	defer s.invalidate(ctx, invalidIdentity, identity.String())
	if err := ValidTenantRole(role, t.Kind); err != nil {
		return err
	}
	return s.ControlTx(ctx, Write, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&Membership{IdentityID: identity, TenantID: t.ID, Role: role, CreatedAt: s.now()}).
			On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		return s.Audit(ctx, tx, "member.grant", &t.ID, identity.String(), map[string]any{"role": role})
	})
}

// FindIdentityByEmail returns the identity with email.
func (s *Store) FindIdentityByEmail(ctx context.Context, email string) (*Identity, error) {
	id := new(Identity)
	if err := s.reader.NewSelect().Model(id).Where("lower(email) = ?", strings.ToLower(strings.TrimSpace(email))).Scan(ctx); err != nil {
		if isNotFound(dbx.Translate(err)) {
			return nil, errs.E(errs.NotFound, msgNoAccountEmail, textutil.Truncate(email, 80))
		}
		return nil, dbx.Translate(err)
	}
	return id, nil
}
