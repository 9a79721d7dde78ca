package monitoring

// demoRules are the demo county's alarm rules, one or two per device type, with case classes
// of the shared catalog (GB/T 30428.2).
func demoRules() []RuleInput {
	f := func(v float64) *float64 { return &v }
	off := false
	return []RuleInput{
		{Name: "井盖开启", DeviceType: "manhole", Metric: "open", Kind: RuleAbove, Threshold: f(0.5), Severity: "critical",
			Action: ActionCase, CaseKind: "component", ClassCode: "0101", Description: "井盖{name}（{device}）被打开，请立即现场核查并恢复。"},
		{Name: "井盖倾斜", DeviceType: "manhole", Metric: "tilt", Kind: RuleAbove, Threshold: f(15), ClearAt: f(10), Severity: "warning",
			Action: ActionConfirm, CaseKind: "component", ClassCode: "0101", Description: "井盖{name}（{device}）倾角 {value}{unit}，疑似松动或破损。"},
		{Name: "道路积水超限", DeviceType: "waterlog", Metric: "level", Kind: RuleAbove, Threshold: f(20), ClearAt: f(15), Severity: "warning",
			Action: ActionCase, CaseKind: "event", ClassCode: "0406", Description: "{name}（{device}）积水深度 {value}{unit}，超过 20cm。"},
		{Name: "燃气浓度超限", DeviceType: "gas", Metric: "concentration", Kind: RuleAbove, Threshold: f(25), ClearAt: f(20), Severity: "critical",
			Action: ActionCase, CaseKind: "event", ClassCode: "0403", Description: "{name}（{device}）燃气浓度 {value}{unit}，超过 25%LEL，请立即处置。"},
		{Name: "燃气监测无数据", DeviceType: "gas", Kind: RuleNoData, Threshold: f(30), Severity: "warning", Action: ActionAlarm},
		{Name: "垃圾桶满溢", DeviceType: "bin", Metric: "fill", Kind: RuleAbove, Threshold: f(90), ClearAt: f(70), Severity: "info",
			Action: ActionCase, CaseKind: "component", ClassCode: "0306", Description: "{name}（{device}）满溢度 {value}{unit}，请安排清运。"},
		// Off: the demo's streetlights draw nothing by day. A county whose lights report only when
		// they should be lit turns it on.
		{Name: "路灯电流过低", DeviceType: "streetlight", Metric: "current", Kind: RuleBelow, Threshold: f(0.1), ClearAt: f(0.2), Severity: "warning",
			Action: ActionAlarm, Enabled: &off},
		{Name: "桥梁倾角突变", DeviceType: "bridge", Metric: "tilt", Kind: RuleRate, Threshold: f(0.5), ClearAt: f(0.2), Severity: "critical",
			Action: ActionConfirm, CaseKind: "component", ClassCode: "0210", Description: "{name}（{device}）倾角每分钟变化 {value}{unit}，请核查桥梁结构。"},
	}
}
