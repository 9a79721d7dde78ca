package analysis

import "github.com/cityops/cityops/internal/msg"

// The page's texts and the kinds' names.
var _ = msg.Define(
	msg.Text{ID: "analysis.nav", ZH: "动态分析", EN: "Analysis"},
	msg.Text{ID: "analysis.kind.hot_spot", ZH: "热点问题", EN: "Hot spots"},
	msg.Text{ID: "analysis.kind.recurring", ZH: "反复发生", EN: "Recurring problems"},
	msg.Text{ID: "analysis.kind.overdue_rising", ZH: "超期上升", EN: "Late handling rising"},
	msg.Text{ID: "analysis.kind.seasonal_peak", ZH: "季节规律", EN: "Seasonal patterns"},
	msg.Text{ID: "analysis.page.hint", ZH: "以下分析均来自案件历史数据，每条都附有依据和案件明细；阈值可由管理员调整。", EN: "Every finding comes from the case history, with its evidence and its cases; an admin may change the thresholds."},
	msg.Text{ID: "analysis.page.cases", ZH: "查看案件", EN: "See the cases"},
	msg.Text{ID: "analysis.page.empty", ZH: "未发现此类情况。", EN: "Nothing of this kind."},
	msg.Text{ID: "analysis.page.settings", ZH: "分析阈值", EN: "Thresholds"},
	msg.Text{ID: "analysis.page.save", ZH: "保存阈值", EN: "Save the thresholds"},
	msg.Text{ID: "analysis.saved", ZH: "分析阈值已保存。", EN: "The thresholds are saved."},
	msg.Text{ID: "analysis.setting.window_days", ZH: "热点统计天数", EN: "Hot spot window (days)"},
	msg.Text{ID: "analysis.setting.baseline_windows", ZH: "对比历史周期数", EN: "Baseline windows"},
	msg.Text{ID: "analysis.setting.hot_min_cases", ZH: "热点最少件数", EN: "Hot spot minimum cases"},
	msg.Text{ID: "analysis.setting.hot_ratio", ZH: "热点上升倍数", EN: "Hot spot ratio"},
	msg.Text{ID: "analysis.setting.recur_days", ZH: "反复发生统计天数", EN: "Recurrence window (days)"},
	msg.Text{ID: "analysis.setting.recur_min_cases", ZH: "反复发生最少件数", EN: "Recurrence minimum cases"},
	msg.Text{ID: "analysis.setting.recur_meters", ZH: "同一地点范围（米）", EN: "Same place within (m)"},
	msg.Text{ID: "analysis.setting.overdue_months", ZH: "超期连续上升月数", EN: "Months of rising late share"},
	msg.Text{ID: "analysis.setting.overdue_share", ZH: "超期占比下限（0–1）", EN: "Late share at least (0–1)"},
	msg.Text{ID: "analysis.setting.overdue_min_handled", ZH: "最少处置件数", EN: "Minimum handled cases"},
	msg.Text{ID: "analysis.setting.season_ratio", ZH: "季节高发倍数", EN: "Seasonal ratio"},
	msg.Text{ID: "analysis.setting.season_min_cases", ZH: "季节高发最少件数", EN: "Seasonal minimum cases"},
)
