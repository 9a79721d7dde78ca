package app

import (
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// setSession puts the session cookie on the response and returns the session's CSRF token.
func (a *App) setSession(c *fiber.Ctx, token string) string {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: token, Path: "/", HTTPOnly: true, Secure: a.cfg.secureCookies(),
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(tenants.SessionMax),
	})
	return csrfToken(token)
}

func (a *App) apiLogin(c *fiber.Ctx) error {
	var in loginRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	token, id, err := a.store.Login(c.UserContext(), in.Email, in.Password, c.Get(fiber.HeaderUserAgent), c.IP())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"identity": id, "csrf_token": a.setSession(c, token)})
}

func (a *App) apiLogout(c *fiber.Ctx) error {
	if tok := c.Cookies(sessionCookie); tok != "" {
		if err := a.store.Logout(c.UserContext(), tok); err != nil {
			return err
		}
	}
	c.ClearCookie(sessionCookie)
	return c.SendStatus(fiber.StatusNoContent)
}

type meMembership struct {
	Tenant *tenants.Tenant `json:"tenant"`
	Roles  []tenants.Role  `json:"roles"`
}

type meResponse struct {
	Identity    *tenants.Identity `json:"identity"`
	Memberships []meMembership    `json:"memberships"`
	CSRFToken   string            `json:"csrf_token,omitempty"`
}

func (a *App) me(c *fiber.Ctx) (*meResponse, error) {
	p := principal(c)
	out := &meResponse{Identity: p.Identity, Memberships: []meMembership{}}
	if c.Locals("auth") == "session" {
		out.CSRFToken = csrfToken(c.Cookies(sessionCookie))
	}
	seen := map[uuid.UUID]int{}
	for _, m := range p.Memberships {
		if i, ok := seen[m.TenantID]; ok {
			out.Memberships[i].Roles = append(out.Memberships[i].Roles, m.Role)
			continue
		}
		t, err := a.store.FindTenantByID(c.UserContext(), m.TenantID)
		if err != nil {
			return nil, err
		}
		seen[m.TenantID] = len(out.Memberships)
		out.Memberships = append(out.Memberships, meMembership{Tenant: t, Roles: []tenants.Role{m.Role}})
	}
	return out, nil
}

func (a *App) apiMe(c *fiber.Ctx) error {
	me, err := a.me(c)
	if err != nil {
		return err
	}
	return c.JSON(me)
}

type createTokenRequest struct {
	Name      string `json:"name"`
	ExpiresIn int    `json:"expires_in_days"`
}

func (a *App) apiCreateToken(c *fiber.Ctx) error {
	var in createTokenRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.ExpiresIn < 0 || in.ExpiresIn > 3650 {
		return errs.Field("expires_in_days", msgExpiresDaysMustBetweenNever)
	}
	token, t, err := a.store.CreateAPIToken(c.UserContext(), principal(c).Identity.ID, in.Name, time.Duration(in.ExpiresIn)*24*time.Hour)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "api_token": t})
}

func (a *App) apiListTokens(c *fiber.Ctx) error {
	ts, err := a.store.FindAPITokens(c.UserContext(), principal(c).Identity.ID)
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (a *App) apiRevokeToken(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errs.E(errs.NotFound, msgNoToken, c.Params("id"))
	}
	if err := a.store.RevokeAPIToken(c.UserContext(), principal(c).Identity.ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type acceptRequest struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (a *App) apiAcceptInvitation(c *fiber.Ctx) error {
	var in acceptRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	id, t, err := a.store.AcceptInvitation(c.UserContext(), in.Token, in.Name, in.Password)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"identity": id, "tenant": t})
}

// Tenant-scoped membership administration.

func (a *App) apiListMembers(c *fiber.Ctx) error {
	ms, err := a.store.FindMembers(c.UserContext(), scope(c).Tenant.ID)
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

func (a *App) apiInvite(c *fiber.Ctx) error {
	var in inviteRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	inv, token, err := a.store.Invite(c.UserContext(), scope(c).Tenant, in.Email, in.Name, in.Role)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"invitation": inv, "token": token, "accept_url": a.cfg.BaseURL + "/invite/" + token,
	})
}

func (a *App) apiListInvitations(c *fiber.Ctx) error {
	invs, err := a.store.FindInvitations(c.UserContext(), scope(c).Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(invs)
}

type rolesRequest struct {
	Roles []tenants.Role `json:"roles"`
}

func (a *App) apiSetMemberRoles(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errs.E(errs.NotFound, msgNoMember, c.Params("id"))
	}
	var in rolesRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Roles == nil {
		return errs.Field("roles", msgGiveMemberRolesListEmpty)
	}
	if err := a.store.SetMemberRoles(c.UserContext(), scope(c).Tenant, id, in.Roles); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func scope(c *fiber.Ctx) *tenants.Scope { return tenants.ScopeFrom(c.UserContext()) }
