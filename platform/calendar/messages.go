package calendar

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAmountNotNumber = msg.New("calendar.amount_not_number",
		"The amount of %q is not a number.",
		"%q 中的数量不是数字。")
	msgBodyNotJsonObjectDays = msg.New("calendar.body_not_json_object_days",
		"The body is not a JSON object {\"days\":[{\"date\",\"kind\",\"name\"}]}.",
		"请求体须为 JSON 对象 {\"days\":[{\"date\",\"kind\",\"name\"}]}。")
	msgCalendarNeedsLeastOneWorking = msg.New("calendar.calendar_needs_least_one_working",
		"A calendar needs at least one working period a day.",
		"工作日历每天至少需要一个工作时段。")
	msgDateNotDateWritten = msg.New("calendar.date_not_date_written",
		"The date %q is not a date written as 2026-01-01.",
		"日期 %q 不是 2026-01-01 格式的日期。")
	msgDayHolidayWorkdayNot = msg.New("calendar.day_holiday_workday_not",
		"A day is a holiday or a workday, not %q.",
		"日期类型为 holiday（节假日）或 workday（工作日），不能是 %q。")
	msgExtensionCannotExtendLimitOne = msg.New("calendar.extension_cannot_extend_limit_one",
		"An extension in %s cannot extend a limit in %s: one counts natural time, the other working time.",
		"以 %s 计的延期不能延长以 %s 计的时限：一个按自然时间计算，另一个按工作时间计算。")
	msgGiveLimitLimitAmountUnit = msg.New("calendar.give_limit_limit_amount_unit",
		"Give the limit as ?limit=4工作时 or ?amount=4&unit=working_hours.",
		"请以 ?limit=4工作时 或 ?amount=4&unit=working_hours 的形式给出时限。")
	msgGiveStartClock = msg.New("calendar.give_start_clock",
		"Give the start of the clock.",
		"请提供计时开始时间。")
	msgGiveYearBeingImportedYear = msg.New("calendar.give_year_being_imported_year",
		"Give the year being imported as ?year=2026.",
		"请以 ?year=2026 的形式给出导入数据所属的年份。")
	msgTimeLimitMoreThanMost = msg.New("calendar.time_limit_more_than_most",
		"A time limit is more than 0 and at most %d.",
		"时限须大于 0 且不超过 %d。")
	msgTimeLimitNumberFollowedUnit = msg.New("calendar.time_limit_number_followed_unit",
		"A time limit is a number followed by a unit, such as 2紧急工作时, 4工作时 or 15工作日; got %q.",
		"时限为数字加时间单位，例如 2紧急工作时、4工作时或 15工作日；收到的是 %q。")
	msgTimeNotRfcT09 = msg.New("calendar.time_not_rfc_t09",
		"The time %q is not RFC 3339 (2026-03-02T09:00:00+08:00).",
		"时间 %q 不符合 RFC 3339 格式（2026-03-02T09:00:00+08:00）。")
	msgTimeZoneNotIanaZone = msg.New("calendar.time_zone_not_iana_zone",
		"The time zone %q is not an IANA zone such as Asia/Shanghai.",
		"时区 %q 不是 IANA 时区（如 Asia/Shanghai）。")
	msgTitle = msg.New("calendar.title",
		"Work calendar",
		"工作日历")
	msgUnitNotOneUrgentHours = msg.New("calendar.unit_not_one_urgent_hours",
		"The unit %q is not one of 紧急工作时 (urgent_hours), 工作时 (working_hours), 工作日 (working_days).",
		"时间单位 %q 不是紧急工作时（urgent_hours）、工作时（working_hours）、工作日（working_days）之一。")
	msgWeekNeedsLeastOneWorking = msg.New("calendar.week_needs_least_one_working",
		"A week needs at least one working day.",
		"每周至少需要一个工作日。")
	msgWeekdaySundaySaturday = msg.New("calendar.weekday_sunday_saturday",
		"A weekday is 0 (Sunday) to 6 (Saturday).",
		"星期取值为 0（星期日）到 6（星期六）。")
	msgWorkingPeriodMustStartBefore = msg.New("calendar.working_period_must_start_before",
		"The working period %s must start before it ends, within one day.",
		"工作时段 %s 的开始时间须早于结束时间，且在同一天内。")
	msgWorkingPeriodsMustOrderNot = msg.New("calendar.working_periods_must_order_not",
		"The working periods must be in order and not overlap (%s after %s).",
		"各工作时段须按先后顺序排列且不能重叠（%s 在 %s 之后）。")
	msgWriteWorkingHoursHasNo = msg.New("calendar.write_working_hours_has_no",
		"Write working hours as 08:30-12:00,14:30-18:00; %q has no dash.",
		"工作时间请按 08:30-12:00,14:30-18:00 的格式填写；%q 中没有连字符。")
	msgWriteWorkingHoursNotTwo = msg.New("calendar.write_working_hours_not_two",
		"Write working hours as 08:30-12:00,14:30-18:00; %q is not two times of day.",
		"工作时间请按 08:30-12:00,14:30-18:00 的格式填写；%q 不是两个时刻。")
	msgYearOutRange = msg.New("calendar.year_out_range",
		"The year %d is out of range.",
		"年份 %d 超出范围。")
	// The year import's report.
	msgDateNotInYear = msg.New("calendar.date_not_in_year",
		"The date is not in %d, the year being imported.",
		"日期不在导入的年份 %d 内。")
	msgKindHolidayWorkday = msg.New("calendar.kind_holiday_workday",
		"The kind %q is neither 放假 (holiday) nor 上班 (workday).",
		"类型 %q 既不是“放假”也不是“上班”。")
	msgDateAlreadyGiven = msg.New("calendar.date_already_given",
		"The date %s is already given in row %d.",
		"日期 %s 已在第 %d 行出现。")
	msgNameTooLong = msg.New("calendar.name_too_long",
		"A name is at most 100 characters.",
		"名称不超过 100 个字符。")
)
