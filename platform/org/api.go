package org

import (
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// api is the module's JSON API.
type api struct{ s *Service }

// routes adds the API. Reads are open to every member and to read-only scopes (prefecture
// viewers, support); writes need tenant_admin, since configuring the organisation is the county
// admin's job.
func (h api) routes(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/departments", h.listDepartments)
	r.Post("/departments", admin, h.createDepartment)
	r.Get("/departments/:id", h.getDepartment)
	r.Put("/departments/:id", admin, h.updateDepartment)
	r.Delete("/departments/:id", admin, h.deleteDepartment)
	r.Get("/staff", h.listStaff)
	r.Post("/staff", admin, h.createStaff)
	r.Get("/staff/:id", h.getStaff)
	r.Put("/staff/:id", admin, h.updateStaff)
	r.Delete("/staff/:id", admin, h.deleteStaff)
}

func (h api) listDepartments(c *fiber.Ctx) error {
	ds, err := h.s.FindDepartments(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(ds)
}

func (h api) getDepartment(c *fiber.Ctx) error {
	d, err := h.s.FindDepartmentByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (h api) createDepartment(c *fiber.Ctx) error {
	var in DepartmentInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.s.CreateDepartment(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (h api) updateDepartment(c *fiber.Ctx) error {
	var in DepartmentInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	d, err := h.s.UpdateDepartment(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

func (h api) deleteDepartment(c *fiber.Ctx) error {
	if err := h.s.DeleteDepartment(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h api) listStaff(c *fiber.Ctx) error {
	st, err := h.s.FindStaff(c.UserContext(), StaffFilter{Post: Post(c.Query("post")), DepartmentID: c.Query("department_id")})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h api) getStaff(c *fiber.Ctx) error {
	st, err := h.s.FindStaffByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h api) createStaff(c *fiber.Ctx) error {
	var in StaffInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.s.CreateStaff(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (h api) updateStaff(c *fiber.Ctx) error {
	var in StaffInput
	if err := module.DecodeJSON(c, &in); err != nil {
		return err
	}
	st, err := h.s.UpdateStaff(c.UserContext(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (h api) deleteStaff(c *fiber.Ctx) error {
	if err := h.s.DeleteStaff(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
