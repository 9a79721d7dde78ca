package evaluation

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTitle = msg.New("evaluation.title",
		"Evaluation",
		"综合评价")
	msgPeriodStartBeforeEnd = msg.New("evaluation.period_start_before_end",
		"The period must start before it ends.",
		"统计周期的开始须早于结束。")
	msgPeriodNotBegun = msg.New("evaluation.period_not_begun",
		"The period has not begun yet (the last five minutes' events are not yet counted): there are no totals to store.",
		"统计周期尚未开始（最近五分钟的事件暂不计入）：没有可保存的汇总数。")
	msgNoTenantScope = msg.New("evaluation.no_tenant_scope",
		"The evaluation was asked for without a tenant.",
		"未指定单位，无法计算评价。")
	msgNotDate = msg.New("evaluation.not_date",
		"%q is not a date: use YYYY-MM-DD, for example 2026-05-01.",
		"%q 不是日期：请使用 YYYY-MM-DD 格式，例如 2026-05-01。")
	msgNoteTooLong = msg.New("evaluation.note_too_long",
		"The note is longer than 500 characters.",
		"说明超过 500 个字符。")
	msgUnknownObject = msg.New("evaluation.unknown_object",
		"%q is not an object of the evaluation (streets, communities, grids, departments, inspectors, acceptors, shift_leads, dispatchers).",
		"%q 不是评价对象（streets、communities、grids、departments、inspectors、acceptors、shift_leads、dispatchers）。")
	msgUnknownIndicator = msg.New("evaluation.unknown_indicator",
		"%q is not an indicator of %s.",
		"%q 不是 %s 的评价指标。")
	msgWeightRange = msg.New("evaluation.weight_range",
		"The weight of %s must be a number from 0 to 100.",
		"%s 的权重须为 0 到 100 之间的数。")
	msgWeightsAllZero = msg.New("evaluation.weights_all_zero",
		"The weights of %s are all zero: at least one indicator must count.",
		"%s 的权重全为 0：至少要有一项指标计分。")
	msgPeriodKind = msg.New("evaluation.period_kind",
		"The period %q is not a month (2026-05), a quarter (2026-Q2), a year (2026) or from–to dates.",
		"统计周期 %q 不是月（2026-05）、季度（2026-Q2）、年（2026）或起止日期。")
	msgPeriodYears = msg.New("evaluation.period_years",
		"%q is outside the years an evaluation covers (%d to %d).",
		"%q 超出评价可统计的年份（%d 至 %d 年）。")
	msgPeriodTooLong = msg.New("evaluation.period_too_long",
		"A custom period is at most 366 days.",
		"自定义统计周期最长 366 天。")
	msgUnknownMeasure = msg.New("evaluation.unknown_measure",
		"%q is not a count of %s.",
		"%q 不是 %s 的统计项。")
	msgFormat = msg.New("evaluation.format",
		"The format %q is not json or csv.",
		"格式 %q 不是 json 或 csv。")
)

// The bulletins' refusals.
var (
	msgBulletinPeriod = msg.New("evaluation.bulletin_period",
		"The period %q of a bulletin is not a month (2026-05) or a quarter (2026-Q2).",
		"通报周期 %q 不是月（2026-05）或季度（2026-Q2）。")
	msgBulletinFuture = msg.New("evaluation.bulletin_future",
		"The period %q has not begun: there is nothing to report yet.",
		"统计周期 %q 尚未开始，暂无可通报的数据。")
	msgBulletinNoFont = msg.New("evaluation.bulletin_no_font",
		"No font is configured for PDF documents (CITYOPS_PDF_FONT): bulletins cannot be made.",
		"未配置 PDF 文档字体（CITYOPS_PDF_FONT），无法生成通报。")
	msgBulletinFont = msg.New("evaluation.bulletin_font",
		"The PDF font %s is missing (install fonts-droid-fallback or set CITYOPS_PDF_FONT): bulletins cannot be made.",
		"缺少 PDF 字体 %s（请安装 fonts-droid-fallback 或设置 CITYOPS_PDF_FONT），无法生成通报。")
	msgBulletinNotFound = msg.New("evaluation.bulletin_not_found",
		"There is no such bulletin.",
		"没有该通报。")
)
