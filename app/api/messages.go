package api

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgBeforeMustPositiveEntryId = msg.New("api.before_must_positive_entry_id",
		"before must be a positive entry id.",
		"before 必须是正整数的条目编号。")
	msgNoOffboardingArchive = msg.New("api.no_offboarding_archive",
		"No such offboarding archive.",
		"没有这个注销导出文件。")
	msgExpiresDaysMustBetweenNever = msg.New("api.expires_days_must_between_never",
		"expires_in_days must be between 0 (never) and 3650.",
		"expires_in_days 必须介于 0（永不过期）和 3650 之间。")
	msgFormatNotOneJsonCsv = msg.New("api.format_not_one_json_csv",
		"The format %q is not one of json, csv, html.",
		"格式 %q 不是 json、csv、html 之一。")
	msgGiveMemberRolesListEmpty = msg.New("api.give_member_roles_list_empty",
		"Give the member's roles as a list (an empty list removes the member).",
		"请以列表形式给出该成员的岗位（空列表表示移除该成员）。")
	msgGivePlanChange = msg.New("api.give_plan_change",
		"Give the plan to change to.",
		"请给出要变更为的套餐。")
	msgGivePlanModuleSwitchesBoth = msg.New("api.give_plan_module_switches_both",
		"Give a plan, module switches, or both.",
		"请给出套餐、模块开关，或两者同时给出。")
	msgLimitMustNumberFrom = msg.New("api.limit_must_number_from",
		"limit must be a number from 1 to 500.",
		"limit 必须是 1 到 500 之间的数字。")
	msgNoMember = msg.New("api.no_member",
		"No member %q.",
		"没有成员 %q。")
	msgNoToken = msg.New("api.no_token",
		"No token %q.",
		"没有令牌 %q。")
	msgNotDateYyyyMmDd = msg.New("api.not_date_yyyy_mm_dd",
		"%q is not a date (YYYY-MM-DD) or an RFC 3339 time.",
		"%q 不是日期（YYYY-MM-DD）或 RFC 3339 时间。")
	msgOnlyPrefectureHasCounties = msg.New("api.only_prefecture_has_counties",
		"Only a prefecture has counties.",
		"只有州才有下辖县市。")
	msgYearMustNumber = msg.New("api.year_must_number",
		"The year must be a number.",
		"年份必须是数字。")
	msgYearMustNumberBetween = msg.New("api.year_must_number_between",
		"The year must be a number between 2000 and 2100.",
		"年份必须是 2000 到 2100 之间的数字。")
	msgYearMustNumberExample = msg.New("api.year_must_number_example",
		"The year must be a number, for example 2026.",
		"年份必须是数字，例如 2026。")
)
