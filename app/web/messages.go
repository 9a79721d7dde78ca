package web

// Messages is the UI text, Chinese first. Every key must exist in both languages (a test checks).
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
	},
}
