package web

// Text of the billing pages (a tenant's billing, shared with the operator's ledger page).
func init() {
	add(map[string]map[string]string{
		"zh-CN": {
			"billing.page.title": "计费", "billing.page.readonly": "只读查看：此页面不能修改任何内容。", "billing.fee": "月费",
			"billing.change.line": "%s 起由 %s 改为 %s", "billing.change.from": "原套餐", "billing.change.to": "新套餐",
			"billing.change.effective": "生效月份", "billing.change.by": "登记人",
			"billing.quota.title": "本月用量与额度", "billing.meter": "计量项", "billing.used": "本月已用", "billing.included": "套餐内额度",
			"billing.quota.state": "情况", "billing.quota.ok": "额度内", "billing.quota.over": "超出 %d，按超额计费 ¥ %s",
			"billing.quota.warning": "本月已有用量超出套餐额度：超出部分不会被限制，但会在月底按超额计费。",
			"billing.quota.hint":    "用量按北京时间自然月统计，每月结束后结算。", "billing.over": "超额",
			"billing.balance": "余额", "billing.overdue": "已逾期", "billing.advanced": "累计垫资", "billing.repaid": "累计还款",
			"billing.ageing": "账龄", "billing.age.not_due": "未到期", "billing.age.30": "逾期 1–30 天", "billing.age.90": "31–90 天",
			"billing.age.180": "91–180 天", "billing.age.365": "181–365 天", "billing.age.over": "一年以上", "billing.age.oldest": "最早到期日",
			"billing.schedule": "还款计划", "billing.schedule.none": "还没有还款计划。", "billing.schedule.terms": "本金 ¥ %s，分 %d 年，自 %d 年起",
			"billing.statements": "年度对账单", "billing.statement.year": "%d 年对账单", "billing.counties": "下属县级单位",
		},
		"en": {
			"billing.page.title": "Billing", "billing.page.readonly": "Read-only: nothing on this page can be changed.", "billing.fee": "Monthly fee",
			"billing.change.line": "from %s: %s → %s", "billing.change.from": "From plan", "billing.change.to": "To plan",
			"billing.change.effective": "Effective month", "billing.change.by": "Requested by",
			"billing.quota.title": "This month's usage and quotas", "billing.meter": "Meter", "billing.used": "Used this month", "billing.included": "Included",
			"billing.quota.state": "State", "billing.quota.ok": "within quota", "billing.quota.over": "over by %d, billed ¥ %s as overage",
			"billing.quota.warning": "Some usage this month is over the plan's quota: nothing is blocked, but the overage is billed at the end of the month.",
			"billing.quota.hint":    "Usage is counted by calendar month, Beijing time, and rated when the month ends.", "billing.over": "over",
			"billing.balance": "Balance", "billing.overdue": "Overdue", "billing.advanced": "Advanced to date", "billing.repaid": "Repaid to date",
			"billing.ageing": "Ageing", "billing.age.not_due": "Not due", "billing.age.30": "1–30 days overdue", "billing.age.90": "31–90 days",
			"billing.age.180": "91–180 days", "billing.age.365": "181–365 days", "billing.age.over": "Over a year", "billing.age.oldest": "Oldest due date",
			"billing.schedule": "Repayment schedule", "billing.schedule.none": "No repayment schedule yet.", "billing.schedule.terms": "Principal ¥ %s over %d years from %d",
			"billing.statements": "Yearly statements", "billing.statement.year": "Statement %d", "billing.counties": "County-level units",
		},
	})
}
