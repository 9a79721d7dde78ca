package monitoring

import (
	"strconv"

	"github.com/cityops/cityops/internal/msg"
)

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTitle = msg.New("monitoring.title", "Monitoring", "运行监测")

	msgTypeManhole     = msg.New("monitoring.type.manhole", "Manhole cover", "井盖")
	msgTypeWaterlog    = msg.New("monitoring.type.waterlog", "Road water level", "积水")
	msgTypeGas         = msg.New("monitoring.type.gas", "Gas concentration", "燃气")
	msgTypeBridge      = msg.New("monitoring.type.bridge", "Bridge", "桥梁")
	msgTypeStreetlight = msg.New("monitoring.type.streetlight", "Streetlight", "路灯")
	msgTypeBin         = msg.New("monitoring.type.bin", "Waste bin fill", "垃圾桶满溢")

	msgMetricTilt          = msg.New("monitoring.metric.tilt", "Tilt", "倾角")
	msgMetricOpen          = msg.New("monitoring.metric.open", "Open (1) or closed (0)", "开启（1）/闭合（0）")
	msgMetricLevel         = msg.New("monitoring.metric.level", "Water level", "水位")
	msgMetricConcentration = msg.New("monitoring.metric.concentration", "Concentration", "浓度")
	msgMetricStrain        = msg.New("monitoring.metric.strain", "Strain", "应变")
	msgMetricCurrent       = msg.New("monitoring.metric.current", "Current", "电流")
	msgMetricFill          = msg.New("monitoring.metric.fill", "Fill level", "满溢度")

	msgTextTooLong = msg.New("monitoring.text_too_long",
		"The %s must be clean text of at most %d characters.",
		"%s 须为不超过 %d 个字符的有效文本。")
	msgRawDaysRange = msg.New("monitoring.raw_days_range",
		"Raw readings are kept 1 to 3650 days.",
		"原始读数保留 1 至 3650 天。")
	msgRollupDaysRange = msg.New("monitoring.rollup_days_range",
		"%s is 0 (keep forever) or at least %s, and at most 36500 days.",
		"%s 须为 0（永久保留）或不少于 %s，且不超过 36500 天。")
	msgOfflineMinutesRange = msg.New("monitoring.offline_minutes_range",
		"A device shows offline after 1 to 10080 minutes without a reading.",
		"设备无读数 1 至 10080 分钟后显示离线。")
	msgUnknownType = msg.New("monitoring.unknown_type",
		"No device type %q (the types are %s).",
		"没有设备类型 %q（可用类型：%s）。")
	msgStatusOnlineOffline = msg.New("monitoring.status_online_offline",
		"The status is online or offline.",
		"状态为 online（在线）或 offline（离线）。")
	msgAlarmState = msg.New("monitoring.alarm_state",
		"The alarm state is open, raised, acknowledged or cleared.",
		"告警状态为 open（未消除）、raised（已产生）、acknowledged（已确认）或 cleared（已消除）。")
	msgNoDevice = msg.New("monitoring.no_device",
		"No device %s.",
		"没有设备 %s。")
	msgDeviceCode = msg.New("monitoring.device_code",
		"A device code is 1 to 64 letters, digits, '-', '_' or '.' (got %q).",
		"设备编码为 1 至 64 个字母、数字、“-”、“_”或“.”（收到 %q）。")
	msgPointNotInChina = msg.New("monitoring.point_not_in_china",
		"The point (%s, %s) is not a longitude and latitude in China.",
		"坐标（%s，%s）不是中国境内的经纬度。")
	msgPointNeeded = msg.New("monitoring.point_needed",
		"A device needs its longitude and latitude (lon, lat).",
		"设备需要经度和纬度（lon、lat）。")
	msgTypeFixed = msg.New("monitoring.type_fixed",
		"A device's type cannot change; add a new device instead.",
		"设备类型不可更改；请新增设备。")
	msgCodeFixed = msg.New("monitoring.code_fixed",
		"A device's code cannot change.",
		"设备编码不可更改。")
	msgNoGrid = msg.New("monitoring.no_grid",
		"This tenant has no grid %s.",
		"本单位没有网格 %s。")
	msgNoComponent = msg.New("monitoring.no_component",
		"The component inventory has no component %s.",
		"部件清单中没有部件 %s。")
	msgDeviceExists = msg.New("monitoring.device_exists",
		"A device %s exists already.",
		"设备 %s 已存在。")
	msgCodeTwiceInFile = msg.New("monitoring.code_twice_in_file",
		"This code is given already in row %d.",
		"该编码已在第 %d 行出现。")
	msgBatchTooLarge = msg.New("monitoring.batch_too_large",
		"A batch holds at most %d readings (this one %d); send it in parts.",
		"每批最多 %d 条读数（本批 %d 条）；请分批发送。")
	msgBatchID = msg.New("monitoring.batch_id",
		"A batch id is 1 to 64 letters, digits, '-', '_' or '.'.",
		"批次编号为 1 至 64 个字母、数字、“-”、“_”或“.”。")
	msgNulByte = msg.New("monitoring.nul_byte",
		"The reading holds a NUL character.",
		"读数中含有 NUL 字符。")
	msgDeviceTokenNotValid = msg.New("monitoring.device_token_not_valid",
		"The device token is not valid for this tenant (rotated, or of another tenant).",
		"设备令牌对本单位无效（已轮换或属于其他单位）。")
	msgSendDeviceToken = msg.New("monitoring.send_device_token",
		"Send the device's token as Authorization: Bearer <token>.",
		"请以 Authorization: Bearer <令牌> 发送设备令牌。")
	msgBatchInFlight = msg.New("monitoring.batch_in_flight",
		"The batch %s is being taken by another request; ask again for its answer.",
		"批次 %s 正由另一请求处理；请稍后重试以获取结果。")
	msgBadDay = msg.New("monitoring.bad_day",
		"%s is a date, YYYY-MM-DD.",
		"%s 须为日期，格式 YYYY-MM-DD。")
	msgBadTime = msg.New("monitoring.bad_time",
		"%s is a date (YYYY-MM-DD, China time) or an RFC 3339 time.",
		"%s 须为日期（YYYY-MM-DD，北京时间）或 RFC 3339 时间。")
	msgMetricNotOfType = msg.New("monitoring.metric_not_of_type",
		"A %[2]s device has no metric %[1]q.",
		"%[2]s 设备没有指标 %[1]q。")
	msgPeriodEmpty = msg.New("monitoring.period_empty",
		"The period ends before it starts.",
		"时段的结束早于开始。")
	msgTooManyPoints = msg.New("monitoring.too_many_points",
		"More than %d points; choose a coarser resolution or a shorter period.",
		"超过 %d 个数据点；请选择更粗的粒度或更短的时段。")
	msgResolution = msg.New("monitoring.resolution",
		"The resolution is auto, raw, minute, hour or day.",
		"粒度为 auto、raw、minute、hour 或 day。")
	msgNotEntitled = msg.New("monitoring.not_entitled",
		"The plan of %s does not include monitoring.",
		"%s 的套餐不含运行监测。")
	msgNoTenant = msg.New("monitoring.no_tenant",
		"No tenant %s.",
		"没有单位 %s。")
)

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

var msgFormat = msg.New("monitoring.format", "The format is json or csv.", "格式为 json 或 csv。")

var (
	msgMQTTAuthWritten = msg.New("monitoring.mqtt_auth_written",
		"%d devices of %d tenants: wrote %s and %s (reload the broker: kill -HUP or systemctl reload mosquitto).",
		"%[2]d 个单位的 %[1]d 台设备：已写入 %[3]s 和 %[4]s（请重新加载消息代理：kill -HUP 或 systemctl reload mosquitto）。")
	msgMQTTAuthMissing = msg.New("monitoring.mqtt_auth_missing",
		"%d devices have no MQTT password yet (their token predates MQTT; rotate it): %s",
		"%d 台设备尚无 MQTT 密码（其令牌早于 MQTT 启用；请轮换令牌）：%s")
)
