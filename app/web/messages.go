package web

// Messages is the UI text, Chinese first. Every key must exist in both languages (a test checks).
// Each part of the console keeps its own text in a messages_*.go file that calls add from init.
var Messages = map[string]map[string]string{
	"zh-CN": {
		"app.name": "城运 · 城市运行管理服务平台", "app.footer": "城运 CityOps — 城市运行管理服务平台",
		"nav.skip": "跳到正文", "nav.label": "主导航", "nav.login": "登录", "nav.logout": "退出",
		"login.title": "登录", "login.email": "电子邮箱", "login.password": "密码", "login.submit": "登录",
		"login.failed": "邮箱或密码不正确。",
		"me.title":     "我的账号", "me.email": "电子邮箱", "me.name": "姓名", "me.operator": "运营方角色",
		"me.tenants": "我所在的单位", "me.roles": "岗位", "me.none": "您还没有加入任何单位。", "me.visible": "可查看的单位",
		"tenant.name": "名称", "tenant.code": "行政区划代码", "tenant.kind": "类型", "tenant.status": "状态",
		"kind.prefecture": "州（市）", "kind.county": "县", "kind.city": "县级市", "kind.district": "区",
		"status.provisioning": "开通中", "status.active": "运行中", "status.suspended": "已暂停", "status.offboarding": "注销中", "status.deleted": "已注销",
		"role.operator_admin": "运营管理员", "role.operator_billing": "运营财务", "role.operator_support": "运营支持",
		"role.tenant_admin": "单位管理员", "role.inspector": "监督员", "role.acceptor": "受理员", "role.shift_lead": "值班长",
		"role.dispatcher": "派遣员", "role.handler": "处置人员", "role.leader": "领导", "role.viewer": "只读用户", "role.prefecture_viewer": "州级查看",
		"invite.title": "接受邀请", "invite.explain": "设置您的姓名和密码（至少 10 个字符）以加入该单位。如果您已有账号，请输入原密码。",
		"invite.submit": "加入", "invite.done": "已加入。现在可以登录。",
		"error.request": "请求编号", "error.home": "返回首页",
		// billing
		"billing.statement.title": "年度对账单", "billing.statement.csv": "下载 CSV", "billing.statement.period": "期间",
		"billing.plan": "套餐", "billing.statement.opening": "期初应收", "billing.statement.closing": "期末应收",
		"billing.outstanding": "尚欠金额", "billing.credit": "预付余额", "billing.statement.lines": "明细",
		"billing.statement.empty": "本年度没有记账。", "billing.statement.totals": "本年合计", "billing.statement.instalments": "本年度分期",
		"billing.statement.usage": "本年度用量", "billing.statement.generated": "生成于",
		"billing.statement.note": "金额单位：人民币元。正数为应收，负数为预付余额。",
		"billing.col.date":       "日期", "billing.col.journal": "凭证号", "billing.col.kind": "类型", "billing.col.category": "类别",
		"billing.col.memo": "摘要", "billing.col.debit": "借方", "billing.col.credit": "贷方", "billing.col.balance": "余额",
		"billing.col.year": "年度", "billing.col.due": "到期日", "billing.col.principal": "本金", "billing.col.interest": "利息", "billing.col.amount": "应付",
		"billing.cat.fit_out": "建设垫资", "billing.cat.operation": "运维垫资", "billing.cat.cloud": "云资源垫资", "billing.cat.other": "其他",
		"billing.cat.usage": "超额用量", "billing.cat.plan": "套餐费", "billing.cat.interest": "利息", "billing.cat.bank": "银行转账",
		"billing.cat.stripe": "在线支付", "billing.cat.correction": "更正", "billing.cat.waiver": "减免", "billing.cat.credit": "抵扣",
		"billing.status.scheduled": "计划中", "billing.status.issued": "已开票", "billing.status.finalized": "待支付", "billing.status.paid": "已支付",
		"billing.meter.cases_created": "新建案件", "billing.meter.active_users": "月活跃用户", "billing.meter.api_requests": "接口调用",
		"billing.meter.sensor_readings": "传感器读数", "billing.meter.storage_mb_days": "存储（MiB·天）", "billing.meter.sms": "短信",
	},
	"en": {
		"app.name": "CityOps · City Operation Management", "app.footer": "CityOps — city operation management service platform",
		"nav.skip": "Skip to content", "nav.label": "Main navigation", "nav.login": "Log in", "nav.logout": "Log out",
		"login.title": "Log in", "login.email": "Email", "login.password": "Password", "login.submit": "Log in",
		"login.failed": "The email or password is wrong.",
		"me.title":     "My account", "me.email": "Email", "me.name": "Name", "me.operator": "Operator role",
		"me.tenants": "My units", "me.roles": "Posts", "me.none": "You have not joined any unit yet.", "me.visible": "Units I can view",
		"tenant.name": "Name", "tenant.code": "Admin code", "tenant.kind": "Kind", "tenant.status": "Status",
		"kind.prefecture": "Prefecture", "kind.county": "County", "kind.city": "County-level city", "kind.district": "District",
		"status.provisioning": "Provisioning", "status.active": "Active", "status.suspended": "Suspended", "status.offboarding": "Offboarding", "status.deleted": "Deleted",
		"role.operator_admin": "Operator admin", "role.operator_billing": "Operator billing", "role.operator_support": "Operator support",
		"role.tenant_admin": "Tenant admin", "role.inspector": "Inspector", "role.acceptor": "Acceptor", "role.shift_lead": "Shift lead",
		"role.dispatcher": "Dispatcher", "role.handler": "Handler", "role.leader": "Leader", "role.viewer": "Viewer", "role.prefecture_viewer": "Prefecture viewer",
		"invite.title": "Accept invitation", "invite.explain": "Choose your name and a password (at least 10 characters) to join. If you already have an account, enter its password.",
		"invite.submit": "Join", "invite.done": "You have joined. You can log in now.",
		"error.request": "Request id", "error.home": "Back to the start page",
		// billing
		"billing.statement.title": "Annual statement", "billing.statement.csv": "Download CSV", "billing.statement.period": "Period",
		"billing.plan": "Plan", "billing.statement.opening": "Opening balance", "billing.statement.closing": "Closing balance",
		"billing.outstanding": "Outstanding", "billing.credit": "Credit", "billing.statement.lines": "Entries",
		"billing.statement.empty": "No entries this year.", "billing.statement.totals": "Totals for the year", "billing.statement.instalments": "Instalments this year",
		"billing.statement.usage": "Usage this year", "billing.statement.generated": "Generated",
		"billing.statement.note": "Amounts in CNY. Positive balances are owed; negative balances are credit.",
		"billing.col.date":       "Date", "billing.col.journal": "Journal", "billing.col.kind": "Kind", "billing.col.category": "Category",
		"billing.col.memo": "Memo", "billing.col.debit": "Debit", "billing.col.credit": "Credit", "billing.col.balance": "Balance",
		"billing.col.year": "Year", "billing.col.due": "Due", "billing.col.principal": "Principal", "billing.col.interest": "Interest", "billing.col.amount": "Amount",
		"billing.cat.fit_out": "Fit-out advance", "billing.cat.operation": "O&M advance", "billing.cat.cloud": "Cloud advance", "billing.cat.other": "Other",
		"billing.cat.usage": "Usage over quota", "billing.cat.plan": "Plan fee", "billing.cat.interest": "Interest", "billing.cat.bank": "Bank transfer",
		"billing.cat.stripe": "Online payment", "billing.cat.correction": "Correction", "billing.cat.waiver": "Waiver", "billing.cat.credit": "Credit",
		"billing.status.scheduled": "Scheduled", "billing.status.issued": "Issued", "billing.status.finalized": "Awaiting payment", "billing.status.paid": "Paid",
		"billing.meter.cases_created": "Cases created", "billing.meter.active_users": "Monthly active users", "billing.meter.api_requests": "API requests",
		"billing.meter.sensor_readings": "Sensor readings", "billing.meter.storage_mb_days": "Storage (MiB-days)", "billing.meter.sms": "Text messages",
	},
}

// add merges one part's text into Messages; a key defined twice is a programming error.
func add(parts map[string]map[string]string) {
	for lang, m := range parts {
		if Messages[lang] == nil {
			panic("web: unknown language " + lang)
		}
		for k, v := range m {
			if _, dup := Messages[lang][k]; dup {
				panic("web: message " + k + " defined twice")
			}
			Messages[lang][k] = v
		}
	}
}
