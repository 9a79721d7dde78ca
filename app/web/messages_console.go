package web

// Text shared by every console page: navigation, common words, error summaries.
func init() {
	add(map[string]map[string]string{
		"zh-CN": {
			"nav.ops": "运营", "nav.inbox": "待办", "nav.cases": "案件", "nav.map": "地图", "nav.report": "上报",
			"nav.admin": "单位设置", "nav.billing": "计费", "nav.overview": "全州总览", "nav.account": "我的账号",
			"nav.tenant": "当前单位", "nav.sections": "功能", "nav.switch": "切换单位", "nav.readonly": "只读访问",
			"common.save": "保存", "common.cancel": "取消", "common.delete": "删除", "common.edit": "编辑",
			"common.add": "添加", "common.search": "查询", "common.reset": "重置", "common.next": "下一页",
			"common.prev": "上一页", "common.none": "暂无数据。", "common.yes": "是", "common.no": "否",
			"common.actions": "操作", "common.open": "打开", "common.back": "返回", "common.confirm": "确认",
			"common.upload": "上传", "common.download": "下载", "common.dryrun": "只检查，不导入",
			"common.done": "已完成。", "common.all": "全部", "common.from": "起", "common.to": "止",
			"map.notiles": "未配置底图：仅显示网格和案件。", "map.label": "地图",
			"problem.invalid": "输入有误", "problem.not_found": "找不到您要的内容", "problem.conflict": "与当前状态冲突",
			"problem.forbidden": "没有权限", "problem.unauthorized": "请先登录", "problem.too_large": "内容太大",
			"problem.unavailable": "服务暂时不可用，请稍后重试", "problem.rate_limited": "请求太频繁，请稍后重试",
			"problem.unsupported": "不支持的格式", "problem.internal": "服务器出错，请稍后重试", "problem.gone": "已不存在",
			"problem.data_destroyed": "数据已销毁",
		},
		"en": {
			"nav.ops": "Operations", "nav.inbox": "Inbox", "nav.cases": "Cases", "nav.map": "Map", "nav.report": "Report",
			"nav.admin": "Settings", "nav.billing": "Billing", "nav.overview": "Prefecture overview", "nav.account": "My account",
			"nav.tenant": "Current unit", "nav.sections": "Sections", "nav.switch": "Switch unit", "nav.readonly": "Read-only access",
			"common.save": "Save", "common.cancel": "Cancel", "common.delete": "Delete", "common.edit": "Edit",
			"common.add": "Add", "common.search": "Search", "common.reset": "Reset", "common.next": "Next page",
			"common.prev": "Previous page", "common.none": "Nothing here yet.", "common.yes": "Yes", "common.no": "No",
			"common.actions": "Actions", "common.open": "Open", "common.back": "Back", "common.confirm": "Confirm",
			"common.upload": "Upload", "common.download": "Download", "common.dryrun": "Check only, do not import",
			"common.done": "Done.", "common.all": "All", "common.from": "From", "common.to": "To",
			"map.notiles": "No base map configured: grids and cases only.", "map.label": "Map",
			"problem.invalid": "Invalid input", "problem.not_found": "Not found", "problem.conflict": "Conflicts with the current state",
			"problem.forbidden": "Not allowed", "problem.unauthorized": "Please log in", "problem.too_large": "Too large",
			"problem.unavailable": "Temporarily unavailable; try again shortly", "problem.rate_limited": "Too many requests; try again shortly",
			"problem.unsupported": "Unsupported format", "problem.internal": "Server error; try again shortly", "problem.gone": "No longer exists",
			"problem.data_destroyed": "Data destroyed",
		},
	})
}
