package api

import (
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// identityAPI is signing in and out, the caller's own account and API tokens, accepting an
// invitation, and a tenant's members and invitations.
type identityAPI struct {
	store   *tenants.Store
	baseURL string
	secure  bool
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *identityAPI) login(c *fiber.Ctx) error {
	var in loginRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	token, id, err := a.store.Login(c.UserContext(), in.Email, in.Password, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"identity": id, "csrf_token": SetSession(c, token, a.secure)})
}

func (a *identityAPI) logout(c *fiber.Ctx) error {
	if tok := c.Cookies(SessionCookie); tok != "" {
		if err := a.store.Logout(c.UserContext(), tok); err != nil {
			return err
		}
	}
	c.ClearCookie(SessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}

// MeMembership is one tenant of the caller's, with the roles held there.
type MeMembership struct {
	Tenant *tenants.Tenant `json:"tenant"`
	Roles  []tenants.Role  `json:"roles"`
}

// MeResponse is the signed-in caller: GET /api/v1/me, and the console's account menu.
type MeResponse struct {
	Identity    *tenants.Identity `json:"identity"`
	Memberships []MeMembership    `json:"memberships"`
	CSRFToken   string            `json:"csrf_token,omitempty"`
}

// Me describes the signed-in caller of c, with the tenants of its memberships.
func Me(c *fiber.Ctx, store *tenants.Store) (*MeResponse, error) {
	p := module.Principal(c)
	out := &MeResponse{Identity: p.Identity, Memberships: []MeMembership{}}
	if c.Locals("auth") == "session" {
		out.CSRFToken = CSRFToken(c.Cookies(SessionCookie))
	}
	seen := map[uuid.UUID]int{}
	for _, m := range p.Memberships {
		if i, ok := seen[m.TenantID]; ok {
			out.Memberships[i].Roles = append(out.Memberships[i].Roles, m.Role)
			continue
		}
		t, err := store.FindTenantByID(c.UserContext(), m.TenantID)
		if err != nil {
			return nil, err
		}
		seen[m.TenantID] = len(out.Memberships)
		out.Memberships = append(out.Memberships, MeMembership{Tenant: t, Roles: []tenants.Role{m.Role}})
	}
	return out, nil
}

func (a *identityAPI) me(c *fiber.Ctx) error {
	me, err := Me(c, a.store)
	if err != nil {
		return err
	}
	return c.JSON(me)
}

type createTokenRequest struct {
	Name      string `json:"name"`
	ExpiresIn int    `json:"expires_in_days"`
}

func (a *identityAPI) createToken(c *fiber.Ctx) error {
	var in createTokenRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.ExpiresIn < 0 || in.ExpiresIn > 3650 {
		return errs.Field("expires_in_days", msgExpiresDaysMustBetweenNever)
	}
	token, t, err := a.store.CreateAPIToken(c.UserContext(), module.Principal(c).Identity.ID, in.Name, time.Duration(in.ExpiresIn)*24*time.Hour)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "api_token": t})
}

func (a *identityAPI) listTokens(c *fiber.Ctx) error {
	ts, err := a.store.FindAPITokens(c.UserContext(), module.Principal(c).Identity.ID)
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (a *identityAPI) revokeToken(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errs.E(errs.NotFound, msgNoToken, c.Params("id"))
	}
	if err := a.store.RevokeAPIToken(c.UserContext(), module.Principal(c).Identity.ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type acceptRequest struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (a *identityAPI) acceptInvitation(c *fiber.Ctx) error {
	var in acceptRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	id, t, err := a.store.AcceptInvitation(c.UserContext(), in.Token, in.Name, in.Password)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"identity": id, "tenant": t})
}

// Tenant-scoped membership administration.

func (a *identityAPI) listMembers(c *fiber.Ctx) error {
	ms, err := a.store.FindMembers(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(ms)
}

type inviteRequest struct {
	Email string       `json:"email"`
	Name  string       `json:"name"`
	Role  tenants.Role `json:"role"`
}

func (a *identityAPI) invite(c *fiber.Ctx) error {
	var in inviteRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	inv, token, err := a.store.Invite(c.UserContext(), module.Scope(c).Tenant, in.Email, in.Name, in.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"invitation": inv, "token": token, "accept_url": a.baseURL + "/invite/" + token,
	})
}

func (a *identityAPI) listInvitations(c *fiber.Ctx) error {
	invs, err := a.store.FindInvitations(c.UserContext(), module.Scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(invs)
}

type rolesRequest struct {
	Roles []tenants.Role `json:"roles"`
}

// MemberID is the member named by :id (the API's and the console's member routes); an id that
// is not a UUID names no member.
func MemberID(c *fiber.Ctx) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return uuid.Nil, errs.E(errs.NotFound, msgNoMember, c.Params("id"))
	}
	return id, nil
}

func (a *identityAPI) setMemberRoles(c *fiber.Ctx) error {
	id, err := MemberID(c)
	if err != nil {
		return err
	}
	var in rolesRequest
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		return errs.Field("roles", msgGiveMemberRolesListEmpty)
	}
	if err := a.store.SetMemberRoles(c.UserContext(), module.Scope(c).Tenant, id, in.Roles); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
