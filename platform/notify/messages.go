package notify

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTitle = msg.New("notify.title", "Notifications", "通知")
	_        = msg.New("notify.nav", "Notifications", "通知")

	msgKindDispatched  = msg.New("notify.kind.dispatched", "Case dispatched to your department", "案件派遣到本部门")
	msgKindRework      = msg.New("notify.kind.rework", "Case returned for rework", "案件返工")
	msgKindWarning     = msg.New("notify.kind.warning", "Case deadline approaching", "案件即将超时预警")
	msgKindOverdue     = msg.New("notify.kind.overdue", "Case overdue", "案件已超时")
	msgKindAlarm       = msg.New("notify.kind.alarm", "Alarm raised", "监测报警")
	msgKindVerifyTask  = msg.New("notify.kind.verify_task", "Case to verify", "待核实")
	msgKindCheckTask   = msg.New("notify.kind.check_task", "Case to check", "待核查")
	msgKindImport      = msg.New("notify.kind.import", "Import finished", "导入完成")
	msgKindBulletin    = msg.New("notify.kind.bulletin", "Bulletin published", "公报发布")
	msgImportSummary   = msg.New("notify.import.summary", "%d created, %d updated, %d unchanged, %d kept.", "新建 %d 条，更新 %d 条，未变 %d 条，保留 %d 条。")
	msgBulletinMonth   = msg.New("notify.bulletin.month", "the monthly bulletin of %s (version %d)", "%s 月度评价公报（第 %d 版）")
	msgBulletinQuarter = msg.New("notify.bulletin.quarter", "the quarterly bulletin of %s (version %d)", "%s 季度评价公报（第 %d 版）")

	msgNoNotification = msg.New("notify.no_notification", "There is no such notification.", "没有这条通知。")
	msgNoIdentity     = msg.New("notify.no_identity", "Notifications belong to a signed-in person.", "通知属于已登录的用户。")
	msgUnknownKind    = msg.New("notify.unknown_kind", "%s is not an event that notifies (dispatched, rework, warning, overdue, alarm, guidance_due, supervision_due, report_due).",
		"%s 不是可通知的事件（dispatched、rework、warning、overdue、alarm、guidance_due、supervision_due、report_due）。")
	msgUnknownChannel = msg.New("notify.unknown_channel", "%s is not a channel you can choose (email, sms).",
		"%s 不是可选的通知渠道（email、sms）。")
	msgMinutesRange = msg.New("notify.minutes_range", "%s is a minute of the day, 0 to 1439.", "%s 须为一天中的分钟数（0 至 1439）。")
	msgWarnRange    = msg.New("notify.warn_range", "The warning comes 1 to 10080 minutes before the deadline.", "预警时间须在到期前 1 至 10080 分钟。")
	msgTLSMode      = msg.New("notify.tls_mode", "The SMTP security is starttls, tls or none.", "SMTP 加密方式须为 starttls、tls 或 none。")
	msgBadText      = msg.New("notify.bad_text", "The %s must be clean text of at most %d characters.", "%s 须为不超过 %d 个字符的有效文本。")
	msgBadPort      = msg.New("notify.bad_port", "The SMTP port is 1 to 65535 (or 0 for the default).", "SMTP 端口须为 1 至 65535（0 为默认）。")
	msgBadTemplate  = msg.New("notify.bad_template", "The template of %s does not parse: %s", "%s 的模板无法解析：%s")
	msgBadID        = msg.New("notify.bad_id", "The notification id is not valid.", "通知编号无效。")

	msgPageEmpty   = msg.New("notify.page.empty", "No notifications.", "暂无通知。")
	msgPageMarkAll = msg.New("notify.page.mark_all", "Mark all read", "全部标为已读")
	msgPageRead    = msg.New("notify.page.read", "Mark read", "标为已读")
	msgPageUnread  = msg.New("notify.page.unread", "%d unread", "%d 条未读")
	msgDigestTitle = msg.New("notify.digest.title", "Your notifications of %s", "%s 的通知汇总")
)

// kinds are the events that notify, with their titles.
var kinds = map[string]*msg.Message{
	KindDispatched: msgKindDispatched, KindRework: msgKindRework, KindWarning: msgKindWarning,
	KindOverdue: msgKindOverdue, KindAlarm: msgKindAlarm, KindImport: msgKindImport, KindBulletin: msgKindBulletin,
	KindVerifyTask: msgKindVerifyTask, KindCheckTask: msgKindCheckTask,
	KindGuidanceDue: msgKindGuidanceDue, KindSupervisionDue: msgKindSupervisionDue, KindReportDue: msgKindReportDue,
}
