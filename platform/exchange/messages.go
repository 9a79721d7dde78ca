package exchange

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTitle = msg.New("exchange.title",
		"Data exchange",
		"数据交换")
	msgNoTenantScope = msg.New("exchange.no_tenant_scope",
		"The data exchange was used without a tenant.",
		"未指定单位，无法进行数据交换。")
	msgCode = msg.New("exchange.code",
		"%q is not a destination code: use 2 to 32 lower-case letters, digits, - and _, starting with a letter (for example province).",
		"%q 不是有效的目的地代码：请使用 2 至 32 位小写字母、数字、- 和 _，以字母开头（例如 province）。")
	msgTooLong = msg.New("exchange.too_long",
		"The field %s is longer than %d characters.",
		"字段 %s 超过 %d 个字符。")
	msgControl = msg.New("exchange.control",
		"The field %s contains control characters.",
		"字段 %s 含有控制字符。")
	msgURLRequired = msg.New("exchange.url_required",
		"Give the destination's address (url), for example https://province.example.gov.cn/cityops/v1/batches.",
		"请填写目的地地址（url），例如 https://province.example.gov.cn/cityops/v1/batches。")
	msgURL = msg.New("exchange.url",
		"%q is not an http or https address.",
		"%q 不是 http 或 https 地址。")
	msgURLUser = msg.New("exchange.url_user",
		"The address must not carry a user name or password: give the credential as the token, which is kept in the secret store.",
		"地址中不能包含用户名或密码：请将凭据填写为令牌（token），由密钥库保存。")
	msgRange = msg.New("exchange.range",
		"The field %s must be a whole number from %d to %d.",
		"字段 %s 须为 %d 到 %d 之间的整数。")
	msgProfile = msg.New("exchange.profile",
		"%q is not a payload profile this platform knows (%s).",
		"%q 不是本平台支持的数据格式（%s）。")
	msgNoDestination = msg.New("exchange.no_destination",
		"There is no destination %q.",
		"没有目的地 %q。")
	msgEntryStatus = msg.New("exchange.entry_status",
		"The status %q is not dead, pending or failing.",
		"状态 %q 不是 dead、pending 或 failing。")
	msgTooMany = msg.New("exchange.too_many",
		"At most %d items at once.",
		"一次最多 %d 条。")
	msgWhen = msg.New("exchange.when",
		"%q is not a date (2026-05-01) or a time (2026-05-01T08:00:00+08:00).",
		"%q 不是日期（2026-05-01）或时间（2026-05-01T08:00:00+08:00）。")
	msgEventID = msg.New("exchange.event_id",
		"%q is not an event id (a UUID as the case history shows it).",
		"%q 不是流转记录编号（案卷历史中显示的 UUID）。")
	msgReplayKind = msg.New("exchange.replay_kind",
		"%q is not something to replay (cases, grids, components, indicators).",
		"%q 不是可重发的内容（cases、grids、components、indicators）。")
	msgReplayOneRange = msg.New("exchange.replay_one_range",
		"Give either a time range (from, to) or an event range (from_event, to_event), not both.",
		"请给出时间范围（from、to）或流转记录范围（from_event、to_event），二者只能选其一。")
	msgReplayOrder = msg.New("exchange.replay_order",
		"The range must start before it ends.",
		"范围的开始须早于结束。")
	msgReplayRange = msg.New("exchange.replay_range",
		"Say which range to replay: from and to (dates or times), or from_event and to_event.",
		"请指定重发范围：from 和 to（日期或时间），或 from_event 和 to_event。")
	msgReplayIndicatorsTime = msg.New("exchange.replay_indicators_time",
		"Indicators are replayed by months: give a time range (from, to).",
		"考核指标按月重发：请给出时间范围（from、to）。")
	msgBefore = msg.New("exchange.before",
		"%q is not a log entry id.",
		"%q 不是日志编号。")
	msgNumber = msg.New("exchange.number",
		"The field %s must be a whole number.",
		"字段 %s 须为整数。")
	msgHotlineNumber = msg.New("exchange.hotline_number",
		"Give the work order's number (number): 1 to 64 letters, digits, - and _.",
		"请填写工单编号（number）：1 至 64 位字母、数字、- 和 _。")
	msgHotlineDescription = msg.New("exchange.hotline_description",
		"Give the work order's description (description): what the citizen reported.",
		"请填写工单内容（description）：市民反映的问题。")
	msgHotlinePoint = msg.New("exchange.hotline_point",
		"Give both lon and lat (WGS 84 degrees: longitude -180 to 180, latitude -90 to 90), or neither.",
		"请同时填写 lon 和 lat（WGS 84 经纬度：经度 -180 至 180，纬度 -90 至 90），或都不填。")
	msgHotlineNoPoint = msg.New("exchange.hotline_no_point",
		"The work order has no location: give lon and lat, or an address that names one of the county's grids.",
		"工单没有位置：请填写经纬度（lon、lat），或填写含本县网格名称的地址。")
	msgHotlineAddress = msg.New("exchange.hotline_address",
		"The address %q names none of the county's grids, so the case cannot be placed: give lon and lat.",
		"地址 %q 不含本县任何网格的名称，无法定位：请填写经纬度（lon、lat）。")
	msgHotlineDifferent = msg.New("exchange.hotline_different",
		"Work order %s was submitted before with other content; a work order cannot be changed by submitting it again.",
		"工单 %s 此前已提交且内容不同；不能通过重新提交修改工单。")
	msgHotlineBusy = msg.New("exchange.hotline_busy",
		"Work order %s is being taken in by another request; try again in a minute.",
		"工单 %s 正在由另一请求处理，请一分钟后重试。")
	msgHotlineNoClass = msg.New("exchange.hotline_no_class",
		"The hotline category %q is mapped to no class, and there is no default class: ask the county's admin to map it (cityops exchange hotline-class).",
		"热线分类 %q 未对应任何案件类别，也没有默认类别：请本县管理员设置对应关系（cityops exchange hotline-class）。")
	msgHotlineCategory = msg.New("exchange.hotline_category",
		"Give the hotline's category (* for the default class).",
		"请填写热线分类（* 表示默认类别）。")
	msgHotlineClassCode = msg.New("exchange.hotline_class_code",
		"%s %s is not a class: give component or event and a 4-digit minor class code (for example event 0101).",
		"%s %s 不是案件类别：请填写 component 或 event 及 4 位小类代码（例如 event 0101）。")
	msgHotlineNoOrder = msg.New("exchange.hotline_no_order",
		"There is no work order %q here.",
		"本单位没有工单 %q。")
	msgHotlineSatisfaction = msg.New("exchange.hotline_satisfaction",
		"%q is not a satisfaction result: give satisfied, basically_satisfied or dissatisfied.",
		"%q 不是满意度结果：请填写 satisfied（满意）、basically_satisfied（基本满意）或 dissatisfied（不满意）。")
)
