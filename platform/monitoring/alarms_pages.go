package monitoring

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
)

// The alarm and rule pages' texts (templates/alarms.html, templates/rules.html).
var _ = msg.Define(
	msg.Text{ID: "monitoring.nav.alarms", ZH: "监测告警", EN: "Alarms"},
	msg.Text{ID: "monitoring.nav.rules", ZH: "告警规则", EN: "Alarm rules"},
	msg.Text{ID: "monitoring.alarms.title", ZH: "监测告警", EN: "Monitoring alarms"},
	msg.Text{ID: "monitoring.alarms.intro", ZH: "设备读数触发规则时产生告警。告警可确认、消除；按规则自动立案或经人工确认后立案，案件办结后告警自动消除。", EN: "A device's readings that trip a rule raise an alarm. Alarms are acknowledged and cleared; by their rule a case opens at once or once a person confirms it, and closing the case clears the alarm."},
	msg.Text{ID: "monitoring.alarms.open", ZH: "未消除", EN: "Open"},
	msg.Text{ID: "monitoring.alarms.none", ZH: "没有符合条件的告警。", EN: "No alarms match."},
	msg.Text{ID: "monitoring.alarms.raised_at", ZH: "产生时间", EN: "Raised"},
	msg.Text{ID: "monitoring.alarms.device", ZH: "设备", EN: "Device"},
	msg.Text{ID: "monitoring.alarms.severity", ZH: "级别", EN: "Severity"},
	msg.Text{ID: "monitoring.alarms.message", ZH: "内容", EN: "Alarm"},
	msg.Text{ID: "monitoring.alarms.hits", ZH: "次数", EN: "Hits"},
	msg.Text{ID: "monitoring.alarms.state", ZH: "状态", EN: "State"},
	msg.Text{ID: "monitoring.alarms.case", ZH: "案件", EN: "Case"},
	msg.Text{ID: "monitoring.alarms.actions", ZH: "操作", EN: "Actions"},
	msg.Text{ID: "monitoring.alarms.reason", ZH: "原因（可选）", EN: "Reason (optional)"},
	msg.Text{ID: "monitoring.alarms.by", ZH: "操作人", EN: "By"},
	msg.Text{ID: "monitoring.alarm.state.raised", ZH: "已产生", EN: "Raised"},
	msg.Text{ID: "monitoring.alarm.state.acknowledged", ZH: "已确认", EN: "Acknowledged"},
	msg.Text{ID: "monitoring.alarm.state.cleared", ZH: "已消除", EN: "Cleared"},
	msg.Text{ID: "monitoring.alarm.case.none", ZH: "不立案", EN: "No case"},
	msg.Text{ID: "monitoring.alarm.case.waiting", ZH: "待人工确认", EN: "Waiting for a person"},
	msg.Text{ID: "monitoring.alarm.case.pending", ZH: "立案中", EN: "Being opened"},
	msg.Text{ID: "monitoring.alarm.case.opened", ZH: "已立案", EN: "Opened"},
	msg.Text{ID: "monitoring.alarm.case.failed", ZH: "立案失败（将重试）", EN: "Failed (tried again)"},
	msg.Text{ID: "monitoring.alarm.action.acknowledge", ZH: "确认告警", EN: "Acknowledge"},
	msg.Text{ID: "monitoring.alarm.action.clear", ZH: "消除", EN: "Clear"},
	msg.Text{ID: "monitoring.alarm.action.confirm", ZH: "确认立案", EN: "Open the case"},
	msg.Text{ID: "monitoring.alarm.action.dismiss", ZH: "不予立案", EN: "Dismiss"},
	msg.Text{ID: "monitoring.severity.info", ZH: "提示", EN: "Info"},
	msg.Text{ID: "monitoring.severity.warning", ZH: "警告", EN: "Warning"},
	msg.Text{ID: "monitoring.severity.critical", ZH: "严重", EN: "Critical"},
	msg.Text{ID: "monitoring.rules.title", ZH: "告警规则", EN: "Alarm rules"},
	msg.Text{ID: "monitoring.rules.intro", ZH: "规则按设备类型（或单个设备）监视一个指标：高于、低于阈值，每分钟变化超过阈值，或超过若干分钟无数据。消除值为回差：读数回到消除值以内告警才消除。", EN: "A rule watches one metric of every device of a type (or of one device): above or below a threshold, a change per minute beyond it, or no data for some minutes. clear_at is the hysteresis: the alarm clears only once the value is back past it."},
	msg.Text{ID: "monitoring.rules.none", ZH: "尚无规则。", EN: "No rules yet."},
	msg.Text{ID: "monitoring.rules.name", ZH: "名称", EN: "Name"},
	msg.Text{ID: "monitoring.rules.scope", ZH: "适用", EN: "Applies to"},
	msg.Text{ID: "monitoring.rules.device_hint", ZH: "设备编码（留空则适用该类型全部设备）", EN: "Device code (empty: every device of the type)"},
	msg.Text{ID: "monitoring.rules.kind", ZH: "条件", EN: "Condition"},
	msg.Text{ID: "monitoring.rules.threshold", ZH: "阈值", EN: "Threshold"},
	msg.Text{ID: "monitoring.rules.clear_at", ZH: "消除值", EN: "Clear at"},
	msg.Text{ID: "monitoring.rules.action", ZH: "处置", EN: "Action"},
	msg.Text{ID: "monitoring.rules.class", ZH: "案件类型与小类", EN: "Case kind and class"},
	msg.Text{ID: "monitoring.rules.description", ZH: "案件描述模板（{name} {device} {metric} {value} {unit} {rule}）", EN: "Case description template ({name} {device} {metric} {value} {unit} {rule})"},
	msg.Text{ID: "monitoring.rules.enabled", ZH: "启用", EN: "Enabled"},
	msg.Text{ID: "monitoring.rules.disabled", ZH: "停用", EN: "Disabled"},
	msg.Text{ID: "monitoring.rules.add", ZH: "新增规则", EN: "Add a rule"},
	msg.Text{ID: "monitoring.rules.edit", ZH: "编辑", EN: "Edit"},
	msg.Text{ID: "monitoring.rules.save", ZH: "保存", EN: "Save"},
	msg.Text{ID: "monitoring.rules.delete", ZH: "删除", EN: "Delete"},
	msg.Text{ID: "monitoring.rules.toggle", ZH: "启用/停用", EN: "Enable/disable"},
	msg.Text{ID: "monitoring.kind.above", ZH: "高于", EN: "Above"},
	msg.Text{ID: "monitoring.kind.below", ZH: "低于", EN: "Below"},
	msg.Text{ID: "monitoring.kind.rate", ZH: "变化率（每分钟）", EN: "Rate (per minute)"},
	msg.Text{ID: "monitoring.kind.no_data", ZH: "无数据（分钟）", EN: "No data (minutes)"},
	msg.Text{ID: "monitoring.action.alarm", ZH: "仅告警", EN: "Alarm only"},
	msg.Text{ID: "monitoring.action.confirm", ZH: "人工确认后立案", EN: "Case once confirmed"},
	msg.Text{ID: "monitoring.action.case", ZH: "自动立案", EN: "Case at once"},
)

// alarmPages adds the alarm list and the rules page, with their forms.
func (h *handlers) alarmPages(r module.Router) {
	admin := module.NeedRole(tenants.TenantAdmin)
	r.Get("/monitoring/alarms", h.pageAlarms)
	r.Post("/monitoring/alarms/:id/:action", module.NeedRole(AlarmRoles...), h.actForm)
	r.Get("/monitoring/rules", h.pageRules)
	r.Post("/monitoring/rules", admin, h.ruleForm)
	r.Post("/monitoring/rules/:id", admin, h.ruleForm)
	r.Post("/monitoring/rules/:id/toggle", admin, h.toggleForm)
	r.Post("/monitoring/rules/:id/delete", admin, h.deleteRuleForm)
}

// pageAlarms is /monitoring/alarms: the open alarms (?state=all: every one; or one state), of
// one device with ?device.
func (h *handlers) pageAlarms(c *fiber.Ctx) error {
	state := c.Query("state", "open")
	f := AlarmFilter{State: state, Device: strings.Clone(c.Query("device")), Limit: 500}
	if f.Device != "" && !validCode(f.Device) {
		return errs.Field("device", msgDeviceCode, f.Device)
	}
	if state == "all" {
		f.State = ""
	}
	as, err := h.s.FindAlarms(c.UserContext(), f)
	if err != nil {
		return err
	}
	return h.k.Pages.Render(c, "monitoring/alarms", fiber.Map{"Alarms": as, "State": state, "Device": f.Device,
		"CanAct": CanActOnAlarms(module.Scope(c)), "States": []string{AlarmRaised, AlarmAcknowledged, AlarmCleared}, "Base": base(c)})
}

// actForm is POST /monitoring/alarms/:id/:action from the alarm list; back to the list.
func (h *handlers) actForm(c *fiber.Ctx) error {
	if _, err := h.s.ActOnAlarm(c.UserContext(), c.Params("id"), c.Params("action"), strings.Clone(c.FormValue("reason"))); err != nil {
		return err
	}
	back := base(c) + "/monitoring/alarms"
	if d := c.FormValue("device"); d != "" && validCode(d) {
		back += "?device=" + url.QueryEscape(d)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// pageRules is /monitoring/rules: the rules and, for the tenant's admins, the form to add one
// (or, with ?edit=<id>, to change one).
func (h *handlers) pageRules(c *fiber.Ctx) error {
	ctx := c.UserContext()
	rs, err := h.s.FindRules(ctx)
	if err != nil {
		return err
	}
	l := h.k.Pages.Lang(c)
	names := map[string]string{}
	for i := range Types {
		names[Types[i].Code] = Types[i].Name(l)
	}
	edit := RuleInput{Severity: "warning", Action: ActionAlarm, Enabled: ptrTo(true)}
	editID := ""
	if id := c.Query("edit"); id != "" {
		r, err := h.s.FindRuleByID(ctx, id)
		if err != nil {
			return err
		}
		edit, editID = InputOf(r), r.ID
	}
	sc := module.Scope(c)
	return h.k.Pages.Render(c, "monitoring/rules", fiber.Map{"Rules": rs, "TypeNames": names, "Types": Types, "Kinds": RuleKinds,
		"Severities": Severities, "Actions": []string{ActionAlarm, ActionConfirm, ActionCase}, "Edit": edit, "EditID": editID, "EditEnabled": edit.Enabled == nil || *edit.Enabled,
		"CanAdmin": sc != nil && !sc.ReadOnly && sc.Has(tenants.TenantAdmin), "Base": base(c)})
}

func ptrTo[T any](v T) *T { return &v }

// formFloat reads an optional number field of a form.
func formFloat(c *fiber.Ctx, field string) (*float64, error) {
	v := strings.TrimSpace(c.FormValue(field))
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !finite(f) {
		if field == "clear_at" {
			return nil, errs.Field(field, msgRuleClearAt)
		}
		return nil, errs.Field(field, msgRuleThreshold)
	}
	return &f, nil
}

// ruleForm is POST /monitoring/rules (a new rule) or /monitoring/rules/:id (a change).
func (h *handlers) ruleForm(c *fiber.Ctx) error {
	in := RuleInput{Name: strings.Clone(c.FormValue("name")), DeviceType: strings.Clone(c.FormValue("device_type")),
		Device: strings.TrimSpace(strings.Clone(c.FormValue("device"))), Metric: strings.Clone(c.FormValue("metric")),
		Kind: strings.Clone(c.FormValue("kind")), Severity: strings.Clone(c.FormValue("severity")), Action: strings.Clone(c.FormValue("action")),
		CaseKind: strings.Clone(c.FormValue("case_kind")), ClassCode: strings.TrimSpace(strings.Clone(c.FormValue("class_code"))),
		Description: strings.Clone(c.FormValue("description")), Enabled: ptrTo(c.FormValue("enabled") != "")}
	var err error
	if in.Threshold, err = formFloat(c, "threshold"); err != nil {
		return err
	}
	if in.ClearAt, err = formFloat(c, "clear_at"); err != nil {
		return err
	}
	if in.Device != "" {
		in.DeviceType = ""
	}
	if id := c.Params("id"); id != "" {
		_, err = h.s.UpdateRule(c.UserContext(), id, in)
	} else {
		_, err = h.s.CreateRule(c.UserContext(), in)
	}
	if err != nil {
		return err
	}
	return c.Redirect(base(c)+"/monitoring/rules", fiber.StatusSeeOther)
}

// toggleForm is POST /monitoring/rules/:id/toggle: the rule on or off.
func (h *handlers) toggleForm(c *fiber.Ctx) error {
	ctx := c.UserContext()
	r, err := h.s.FindRuleByID(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	in := InputOf(r)
	in.Enabled = ptrTo(!r.Enabled)
	if r.DeviceCode != nil {
		in.DeviceType = ""
	}
	if _, err := h.s.UpdateRule(ctx, r.ID, in); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/monitoring/rules", fiber.StatusSeeOther)
}

// deleteRuleForm is POST /monitoring/rules/:id/delete.
func (h *handlers) deleteRuleForm(c *fiber.Ctx) error {
	if err := h.s.DeleteRule(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.Redirect(base(c)+"/monitoring/rules", fiber.StatusSeeOther)
}
