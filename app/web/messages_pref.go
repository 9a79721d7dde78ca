package web

// Text of the prefecture's overview (app/web_prefecture.go).
func init() {
	add(map[string]map[string]string{
		"zh-CN": {
			"pref.title": "全州总览", "pref.readonly": "只读：本页汇总各县市的案件指标，不能更改任何数据。点击县市名称查看其案件。",
			"pref.period": "统计期间", "pref.period.month": "本月", "pref.period.30d": "近 30 天", "pref.period.year": "本年",
			"pref.totals": "全州合计", "pref.table": "各县市主要指标",
			"pref.col.county": "县市", "pref.col.reported": "上报案件", "pref.col.closed": "结案", "pref.col.ontime": "按期结案率",
			"pref.col.overdue": "当前超期", "pref.col.open": "在办案件", "pref.col.avg": "平均处理时长（小时）", "pref.col.staff": "活跃人员",
			"pref.unavailable": "暂时无法读取该单位的数据。", "pref.none": "本州下还没有可查看的县市。",
			"pref.explain":     "上报案件：期间内新上报的案件；结案：期间内结案的案件，其中处置未超时的为按期结案；平均处理时长：从上报到结案；当前超期与在办案件为此刻的数量；活跃人员：期间内办理过案件的人数。",
			"pref.chart.trend": "各县市每日（本年为每月）上报案件数", "pref.chart.ontime": "各县市按期结案率（%）", "pref.chart.rank": "上报案件数排名",
			"pref.overdue": "最早的超期案件", "pref.overdue.none": "当前没有超期案件。", "pref.reported.at": "上报于",
			"pref.map": "全州案件地图", "pref.map.explain": "圆点为各县市期间内案件的中心位置，点击可进入该县市的案件列表；放大后显示当前窗口内的案件，点击案件编号查看详情。",
			"pref.map.reported": "上报 %d 件",
		},
		"en": {
			"pref.title": "Prefecture overview", "pref.readonly": "Read-only: this page sums up the counties' case figures and changes nothing. Follow a county's name to its cases.",
			"pref.period": "Period", "pref.period.month": "This month", "pref.period.30d": "Last 30 days", "pref.period.year": "This year",
			"pref.totals": "Prefecture total", "pref.table": "Key figures per county",
			"pref.col.county": "County", "pref.col.reported": "Reported", "pref.col.closed": "Closed", "pref.col.ontime": "Closed on time",
			"pref.col.overdue": "Overdue now", "pref.col.open": "Open now", "pref.col.avg": "Mean handling time (hours)", "pref.col.staff": "Active staff",
			"pref.unavailable": "This unit's data cannot be read right now.", "pref.none": "There is no county to show under this prefecture yet.",
			"pref.explain":     "Reported: cases reported in the period; closed: cases closed in the period, on time when their disposal did not run over; mean handling time: from report to closing; overdue now and open now are counted at this moment; active staff: people who acted on a case in the period.",
			"pref.chart.trend": "Cases reported per day (per month for the year), by county", "pref.chart.ontime": "On-time closing rate by county (%)", "pref.chart.rank": "Counties ranked by cases reported",
			"pref.overdue": "Oldest overdue cases", "pref.overdue.none": "No case is overdue now.", "pref.reported.at": "reported",
			"pref.map": "Cases across the prefecture", "pref.map.explain": "A dot marks the centre of a county's cases in the period and leads to its case list; zoom in to see the cases of the window and follow a case's number to its page.",
			"pref.map.reported": "%d reported",
		},
	})
}
