package monitoring

import "github.com/cityops/cityops/internal/msg"

// The live view's messages (live.go, live_pages.go, templates map.html and screen.html, the
// chart of device.html): English, then Chinese.
var (
	msgLiveCursor = msg.New("monitoring.live.cursor",
		"%s is a cursor a live stream sent (an event's id).",
		"%s 须为实时推送给出的游标（事件 id）。")
	msgLiveChart = msg.New("monitoring.live.chart", "%s over %s", "%s · %s")
)

// The pages' texts, looked up by id in the templates (and by the script through the page).
var _ = []*msg.Message{
	msg.New("monitoring.live.map", "Device map", "设备地图"),
	msg.New("monitoring.live.screen", "Monitoring big screen", "运行监测大屏"),
	msg.New("monitoring.live.intro",
		"Every device on the map, coloured by its status, and the open alarms; both update by themselves as devices report and alarms change.",
		"地图上显示全部设备及其状态颜色，旁边列出未消除的告警；设备上报、告警变化时自动更新，无需刷新页面。"),
	msg.New("monitoring.live.prefecture",
		"The devices and alarms of every county this prefecture reads, read-only.",
		"本州可查看的各县市设备与告警（只读）。"),
	msg.New("monitoring.live.legend", "Legend", "图例"),
	msg.New("monitoring.live.level.critical", "Alarm: critical", "告警：严重"),
	msg.New("monitoring.live.level.warning", "Alarm: warning", "告警：警告"),
	msg.New("monitoring.live.level.info", "Alarm: notice", "告警：提示"),
	msg.New("monitoring.live.level.online", "Online", "在线"),
	msg.New("monitoring.live.level.offline", "Offline", "离线"),
	msg.New("monitoring.live.alarms", "Open alarms", "未消除告警"),
	msg.New("monitoring.live.no_alarms", "No open alarm.", "暂无未消除的告警。"),
	msg.New("monitoring.live.device", "Device", "设备"),
	msg.New("monitoring.live.unit", "County", "县市"),
	msg.New("monitoring.live.kind", "Kind", "类别"),
	msg.New("monitoring.live.severity", "Severity", "级别"),
	msg.New("monitoring.live.value", "Value", "数值"),
	msg.New("monitoring.live.raised_at", "Raised at", "产生时间"),
	msg.New("monitoring.live.case", "Case", "案件"),
	msg.New("monitoring.live.open_case", "Open the case", "查看案件"),
	msg.New("monitoring.live.open_device", "Open the device", "查看设备"),
	msg.New("monitoring.live.status", "Live", "实时"),
	msg.New("monitoring.live.reconnecting", "Reconnecting…", "正在重新连接…"),
	msg.New("monitoring.live.devices", "Devices", "设备总数"),
	msg.New("monitoring.live.in_alarm", "In alarm", "告警中"),
	msg.New("monitoring.live.by_type", "Devices by type", "按类型统计设备"),
	msg.New("monitoring.live.by_severity", "Open alarms by severity", "按级别统计未消除告警"),
	msg.New("monitoring.live.latest_alarms", "Latest alarms", "最新告警"),
	msg.New("monitoring.live.exit", "Leave the big screen", "退出大屏"),
	msg.New("monitoring.live.open_map", "Device map", "设备地图"),
	msg.New("monitoring.live.open_screen", "Big screen", "监测大屏"),
	msg.New("monitoring.live.loading", "Loading…", "加载中…"),
	msg.New("monitoring.live.chart_title", "Chart of the readings", "读数曲线"),
	msg.New("monitoring.live.kind.above", "Above the threshold", "超过上限"),
	msg.New("monitoring.live.kind.below", "Below the threshold", "低于下限"),
	msg.New("monitoring.live.kind.rate", "Changing too fast", "变化过快"),
	msg.New("monitoring.live.kind.no_data", "No data", "无数据"),
	msg.New("monitoring.live.severity.critical", "Critical", "严重"),
	msg.New("monitoring.live.severity.warning", "Warning", "警告"),
	msg.New("monitoring.live.severity.info", "Notice", "提示"),
	msg.New("monitoring.live.state.raised", "Raised", "已产生"),
	msg.New("monitoring.live.state.acknowledged", "Acknowledged", "已确认"),
	msg.New("monitoring.live.state.cleared", "Cleared", "已消除"),
	msg.New("monitoring.live.min", "Min", "最小"),
	msg.New("monitoring.live.max", "Max", "最大"),
}
