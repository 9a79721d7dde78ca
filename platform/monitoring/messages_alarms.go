package monitoring

import "github.com/cityops/cityops/internal/msg"

// The messages of rules and alarms (rules.go, evaluate.go, alarm_*.go): English, then Chinese.
var (
	msgRuleName = msg.New("monitoring.rule_name",
		"A rule needs a name.",
		"规则需要名称。")
	msgRuleDeviceType = msg.New("monitoring.rule_device_type",
		"The device %s is a %s device; leave the type out or give that one.",
		"设备 %s 的类型为 %s；请不填类型或填写该类型。")
	msgRuleKind = msg.New("monitoring.rule_kind",
		"The kind of rule is above, below, rate or no_data (got %q).",
		"规则类型为 above（高于）、below（低于）、rate（变化率）或 no_data（无数据）（收到 %q）。")
	msgRuleThreshold = msg.New("monitoring.rule_threshold",
		"A rule needs its threshold, a number.",
		"规则需要阈值（数字）。")
	msgRuleClearAt = msg.New("monitoring.rule_clear_at",
		"The clearing value (clear_at) is a number.",
		"消除值（clear_at）须为数字。")
	msgRuleThresholdRange = msg.New("monitoring.rule_threshold_range",
		"The threshold lies within the metric's range, %s to %s %s.",
		"阈值须在该指标的范围 %s 至 %s %s 之内。")
	msgRuleClearAtSide = msg.New("monitoring.rule_clear_at_side",
		"The clearing value (clear_at) lies on the safe side of the threshold: at or below it for above and rate (and not below 0 for rate), at or above it for below.",
		"消除值（clear_at）须在阈值的安全一侧：above 与 rate 规则不高于阈值（rate 不低于 0），below 规则不低于阈值。")
	msgRuleRatePositive = msg.New("monitoring.rule_rate_positive",
		"A rate threshold is a change per minute greater than 0.",
		"变化率阈值为每分钟变化量，须大于 0。")
	msgRuleNoDataMinutes = msg.New("monitoring.rule_no_data_minutes",
		"A no_data threshold is whole minutes, 1 to %d.",
		"无数据规则的阈值为整分钟数，1 至 %d。")
	msgRuleNoDataClearAt = msg.New("monitoring.rule_no_data_clear_at",
		"A no_data rule has no clearing value: its alarm clears when a reading comes.",
		"无数据规则没有消除值：收到读数即消除告警。")
	msgRuleSeverity = msg.New("monitoring.rule_severity",
		"The severity is info, warning or critical.",
		"级别为 info（提示）、warning（警告）或 critical（严重）。")
	msgRuleAction = msg.New("monitoring.rule_action",
		"The action is alarm, confirm or case.",
		"处置方式为 alarm（仅告警）、confirm（人工确认后立案）或 case（自动立案）。")
	msgRuleCaseKind = msg.New("monitoring.rule_case_kind",
		"A rule that opens cases needs the case kind: component or event.",
		"立案规则需要案件类型：component（部件）或 event（事件）。")
	msgRuleClassCode = msg.New("monitoring.rule_class_code",
		"A rule that opens cases needs a minor class code of four digits (got %q).",
		"立案规则需要四位数字的小类编码（收到 %q）。")
	msgRuleNoClass = msg.New("monitoring.rule_no_class",
		"The catalog has no minor class %s %s.",
		"分类目录中没有 %s 小类 %s。")
	msgRuleDefaultDescription = msg.New("monitoring.rule_default_description",
		"Monitoring alarm: {name} ({device}) {metric} {value}{unit}, rule {rule}.",
		"运行监测告警：{name}（{device}）{metric} 为 {value}{unit}，触发规则“{rule}”。")
	msgRuleAdminOnly = msg.New("monitoring.rule_admin_only",
		"Only the tenant's admins change alarm rules.",
		"只有本单位管理员可以修改告警规则。")
	msgNoRule = msg.New("monitoring.no_rule",
		"No rule %s.",
		"没有规则 %s。")
	msgNoAlarm = msg.New("monitoring.no_alarm",
		"No alarm %s.",
		"没有告警 %s。")
	msgAlarmRoles = msg.New("monitoring.alarm_roles",
		"Acting on alarms needs the acceptor's, shift lead's, dispatcher's or admin's post.",
		"处理告警需要受理员、值班长、派遣员或管理员岗位。")
	msgAlarmCleared = msg.New("monitoring.alarm_cleared",
		"The alarm %s is cleared already.",
		"告警 %s 已消除。")
	msgAlarmAcknowledged = msg.New("monitoring.alarm_acknowledged",
		"The alarm %s is acknowledged already.",
		"告警 %s 已确认。")
	msgAlarmNotWaiting = msg.New("monitoring.alarm_not_waiting",
		"The alarm %s is not waiting for a person to confirm its case (its case status is %s).",
		"告警 %s 不在等待人工确认立案（立案状态为 %s）。")
	msgAlarmChanged = msg.New("monitoring.alarm_changed",
		"The alarm %s changed meanwhile; look at it again.",
		"告警 %s 已被他人更改，请刷新后再操作。")
	msgAlarmReason = msg.New("monitoring.alarm_reason",
		"The reason is clean text of at most 200 characters.",
		"原因须为不超过 200 个字符的有效文本。")
	msgAlarmBadSince = msg.New("monitoring.alarm_bad_since",
		"changed_since is a time in milliseconds since 1970 or an RFC 3339 time.",
		"changed_since 须为自 1970 年起的毫秒数或 RFC 3339 时间。")
	msgAlarmCaseRef = msg.New("monitoring.alarm_case_ref",
		"[Monitoring alarm %s, device %s]",
		"[运行监测告警 %s，设备 %s]")
)
