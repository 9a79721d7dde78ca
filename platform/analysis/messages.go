package analysis

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTitle = msg.New("analysis.title",
		"Analysis",
		"动态分析")
	msgIntRange = msg.New("analysis.int_range",
		"%s must be a whole number from %d to %d.",
		"%s 须为 %d 到 %d 之间的整数。")
	msgFloatRange = msg.New("analysis.float_range",
		"%s must be a number from %g to %g.",
		"%s 须为 %g 到 %g 之间的数。")
	msgHotSpot = msg.New("analysis.finding.hot_spot",
		"%[2]s in %[1]s is rising: %[3]d cases in the last %[4]d days, against %[5]g per %[4]d days before (×%[6]g).",
		"%[1]s的「%[2]s」问题明显上升：近 %[4]d 天 %[3]d 件，此前平均每 %[4]d 天 %[5]g 件（%[6]g 倍）。")
	msgHotSpotNew = msg.New("analysis.finding.hot_spot_new",
		"%[2]s in %[1]s is new: %[3]d cases in the last %[4]d days, none in the %[5]d periods before.",
		"%[1]s新出现「%[2]s」问题：近 %[4]d 天 %[3]d 件，此前 %[5]d 个周期无此类问题。")
	msgRecurring = msg.New("analysis.finding.recurring",
		"%[2]s keeps coming back at the same place (%[1]s): %[3]d cases within about %[5]d m in the last %[4]d days — look for the cause, not only the symptom.",
		"同一地点（%[1]s）反复发生「%[2]s」：近 %[4]d 天约 %[5]d 米范围内 %[3]d 件，建议查找根源、从源头治理。")
	msgOverdueRising = msg.New("analysis.finding.overdue_rising",
		"%[1]s handles more and more cases late: %[2]s of its handled cases were late in the last %[3]d months — ask why and follow up (督办).",
		"%[1]s超期处置占比连续上升：近 %[3]d 个月依次为 %[2]s，建议约谈督办。")
	msgSeasonal = msg.New("analysis.finding.seasonal_peak",
		"%[1]s peaked in %[2]s last year (%[3]d cases, ×%[4]g the monthly mean): prepare for %[5]s.",
		"去年 %[2]s「%[1]s」问题高发（%[3]d 件，为月均的 %[4]g 倍），建议提前部署 %[5]s 的防范工作。")
	msgShort = msg.New("analysis.short",
		"Not enough history for %s yet: it needs about %d months of cases.",
		"案件历史尚不足以分析「%s」：约需 %d 个月的数据。")
	msgNoFindings = msg.New("analysis.none",
		"Nothing stands out in the history now.",
		"目前未发现明显的异常变化。")
)
