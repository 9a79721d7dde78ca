package web

// Text of citizens' public pages (app/web_public.go).
func init() {
	add(map[string]map[string]string{
		"zh-CN": {
			"public.title": "我要反映问题", "public.intro": "向%s城市运行管理服务中心反映您发现的城市管理问题（井盖、路灯、垃圾、占道等）。提交后会得到一个编号，凭编号可查询办理进度。",
			"public.service": "问题类型", "public.service.choose": "请选择问题类型", "public.description": "问题描述",
			"public.description.hint": "请简要说明发生了什么、在什么位置", "public.address": "地址",
			"public.location.hint": "请在地图上点击问题所在位置，或使用手机定位；也可以直接填写经纬度。",
			"public.locate":        "使用我的当前位置", "public.lat": "纬度", "public.lon": "经度", "public.photo": "照片（可选，JPEG、PNG 或 WebP）",
			"public.contact": "联系方式（可选）", "public.contact.hint": "留下姓名和电话，便于工作人员联系您核实情况。信息加密保存，只有受理人员可见，不会公开。",
			"public.name": "姓名", "public.phone": "电话", "public.submit": "提交",
			"public.lookup.link": "已经反映过？查询办理进度", "public.done": "已收到您反映的问题，感谢您！请记下下面的编号，凭它查询办理进度。",
			"public.lookup.title": "查询办理进度", "public.lookup.intro": "输入您在%s反映问题时得到的编号。",
			"public.number": "编号", "public.lookup.submit": "查询", "public.token": "Open311 凭证：",
			"public.state": "当前状态", "public.agency": "承办部门", "public.history": "办理过程", "public.again": "再反映一个问题",
			"public.state.reported": "已收到，待受理", "public.state.verifying": "核实中", "public.state.accepted": "已受理，待立案",
			"public.state.filed": "已立案，待派遣", "public.state.voided": "不予立案", "public.state.dispatched": "已派遣至承办部门",
			"public.state.handling": "处置中", "public.state.extension_requested": "处置中（申请延期）", "public.state.return_requested": "处置中（待重新派遣）",
			"public.state.suspension_requested": "处置中（申请挂账）", "public.state.suspended": "暂缓处置（挂账）", "public.state.fed_back": "已处置，待核查",
			"public.state.checking": "核查中", "public.state.checked": "已核查，待结案", "public.state.closed": "已办结",
		},
		"en": {
			"public.title": "Report a problem", "public.intro": "Tell the city operation centre of %s about a problem you found in the city (a manhole cover, a street light, rubbish, an obstruction…). You get a number with which to follow its progress.",
			"public.service": "Kind of problem", "public.service.choose": "Choose the kind of problem", "public.description": "What is the problem?",
			"public.description.hint": "Say briefly what happened and where", "public.address": "Address",
			"public.location.hint": "Tap the map where the problem is, or use your phone's position; you may also type the coordinates.",
			"public.locate":        "Use my current position", "public.lat": "Latitude", "public.lon": "Longitude", "public.photo": "Photo (optional; JPEG, PNG or WebP)",
			"public.contact": "Contact (optional)", "public.contact.hint": "Leave your name and phone so that staff can reach you. They are stored encrypted, seen only by the staff who take the report, and never published.",
			"public.name": "Name", "public.phone": "Phone", "public.submit": "Send",
			"public.lookup.link": "Reported already? Follow its progress", "public.done": "Thank you, we have your report. Keep the number below to follow its progress.",
			"public.lookup.title": "Follow a report", "public.lookup.intro": "Enter the number you got when you reported to %s.",
			"public.number": "Number", "public.lookup.submit": "Look up", "public.token": "Open311 token:",
			"public.state": "Status", "public.agency": "Responsible department", "public.history": "Progress", "public.again": "Report another problem",
			"public.state.reported": "Received, waiting to be accepted", "public.state.verifying": "Being verified on site", "public.state.accepted": "Accepted, waiting to be filed",
			"public.state.filed": "Filed, waiting to be dispatched", "public.state.voided": "Not taken up", "public.state.dispatched": "Sent to the responsible department",
			"public.state.handling": "Being handled", "public.state.extension_requested": "Being handled (more time asked)", "public.state.return_requested": "Being handled (may go to another department)",
			"public.state.suspension_requested": "Being handled (a pause asked)", "public.state.suspended": "On hold", "public.state.fed_back": "Handled, waiting for the check",
			"public.state.checking": "Being checked on site", "public.state.checked": "Checked, waiting to be closed", "public.state.closed": "Solved and closed",
		},
	})
}
