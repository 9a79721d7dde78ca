package web

import "github.com/cityops/cityops/internal/msg"

// Text of the prefecture's overview (app/web_prefecture.go).
var _ = msg.Define(
	msg.Text{ID: "pref.title", ZH: "全州总览", EN: "Prefecture overview"},
	msg.Text{ID: "pref.readonly", ZH: "只读：本页汇总各县市的案件指标，不能更改任何数据。点击县市名称查看其案件。", EN: "Read-only: this page sums up the counties' case figures and changes nothing. Follow a county's name to its cases."},
	msg.Text{ID: "pref.period", ZH: "统计期间", EN: "Period"},
	msg.Text{ID: "pref.period.month", ZH: "本月", EN: "This month"},
	msg.Text{ID: "pref.period.30d", ZH: "近 30 天", EN: "Last 30 days"},
	msg.Text{ID: "pref.period.year", ZH: "本年", EN: "This year"},
	msg.Text{ID: "pref.totals", ZH: "全州合计", EN: "Prefecture total"},
	msg.Text{ID: "pref.table", ZH: "各县市主要指标", EN: "Key figures per county"},
	msg.Text{ID: "pref.col.county", ZH: "县市", EN: "County"},
	msg.Text{ID: "pref.col.reported", ZH: "上报案件", EN: "Reported"},
	msg.Text{ID: "pref.col.closed", ZH: "结案", EN: "Closed"},
	msg.Text{ID: "pref.col.ontime", ZH: "按期结案率", EN: "Closed on time"},
	msg.Text{ID: "pref.col.overdue", ZH: "当前超期", EN: "Overdue now"},
	msg.Text{ID: "pref.col.open", ZH: "在办案件", EN: "Open now"},
	msg.Text{ID: "pref.col.avg", ZH: "平均处理时长（小时）", EN: "Mean handling time (hours)"},
	msg.Text{ID: "pref.col.staff", ZH: "活跃人员", EN: "Active staff"},
	msg.Text{ID: "pref.unavailable", ZH: "暂时无法读取该单位的数据。", EN: "This unit's data cannot be read right now."},
	msg.Text{ID: "pref.none", ZH: "本州下还没有可查看的县市。", EN: "There is no county to show under this prefecture yet."},
	msg.Text{ID: "pref.explain", ZH: "上报案件：期间内新上报的案件；结案：期间内结案的案件，其中处置未超时的为按期结案；平均处理时长：从上报到结案；当前超期与在办案件为此刻的数量；活跃人员：期间内办理过案件的人数。", EN: "Reported: cases reported in the period; closed: cases closed in the period, on time when their disposal did not run over; mean handling time: from report to closing; overdue now and open now are counted at this moment; active staff: people who acted on a case in the period."},
	msg.Text{ID: "pref.chart.trend", ZH: "各县市每日（本年为每月）上报案件数", EN: "Cases reported per day (per month for the year), by county"},
	msg.Text{ID: "pref.chart.ontime", ZH: "各县市按期结案率（%）", EN: "On-time closing rate by county (%)"},
	msg.Text{ID: "pref.chart.rank", ZH: "上报案件数排名", EN: "Counties ranked by cases reported"},
	msg.Text{ID: "pref.overdue", ZH: "最早的超期案件", EN: "Oldest overdue cases"},
	msg.Text{ID: "pref.overdue.none", ZH: "当前没有超期案件。", EN: "No case is overdue now."},
	msg.Text{ID: "pref.reported.at", ZH: "上报于", EN: "reported"},
	msg.Text{ID: "pref.map", ZH: "全州案件地图", EN: "Cases across the prefecture"},
	msg.Text{ID: "pref.map.explain", ZH: "圆点为各县市期间内案件的中心位置，点击可进入该县市的案件列表；放大后显示当前窗口内的案件，点击案件编号查看详情。", EN: "A dot marks the centre of a county's cases in the period and leads to its case list; zoom in to see the cases of the window and follow a case's number to its page."},
	msg.Text{ID: "pref.map.reported", ZH: "上报 %d 件", EN: "%d reported"},
)
