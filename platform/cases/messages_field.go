package cases

import "github.com/cityops/cityops/internal/msg"

// The messages of 城管通 (field.go, patrol.go, api_field.go): English, then Chinese.
var (
	msgKeyMissing = msg.New("cases.field.key_missing",
		"Send a client-generated UUID as the %s header, so that a retry of this request is not taken twice.",
		"请在 %s 请求头中附上客户端生成的 UUID，以免重发的请求被重复受理。")
	msgKeyNotUUID = msg.New("cases.field.key_not_uuid",
		"%s must be a UUID (like 0b6f3c1e-8d2a-4f7b-9c1d-2e3f4a5b6c7d), not %q.",
		"%s 必须是 UUID（如 0b6f3c1e-8d2a-4f7b-9c1d-2e3f4a5b6c7d），而不是 %q。")
	msgKeyUsedByOther = msg.New("cases.field.key_used_by_other",
		"This Idempotency-Key was already used for another request; make a new one for each report, action or batch.",
		"该 Idempotency-Key 已用于另一请求；每条上报、每次办理和每批轨迹都应使用新的键。")
	msgTooManyPhotos = msg.New("cases.field.too_many_photos",
		"A report from the phone takes at most %d photos.",
		"手机上报最多附 %d 张照片。")
	msgTrackInspectorOnly = msg.New("cases.field.track_inspector_only",
		"Only an inspector (监督员) on duty records a patrol track.",
		"只有在岗的监督员才记录巡查轨迹。")
	msgTrackBatchSize = msg.New("cases.field.track_batch_size",
		"Send between 1 and %d points in a batch.",
		"每批轨迹应包含 1 至 %d 个点。")
	msgTrackPointOutside = msg.New("cases.field.track_point_outside",
		"Point %d is not a position in China (lon first, then lat).",
		"第 %d 个点不在中国境内（先经度，后纬度）。")
	msgTrackPointTime = msg.New("cases.field.track_point_time",
		"Point %d needs its time (RFC 3339), within the last seven days and not in the future.",
		"第 %d 个点需要记录时间（RFC 3339），且在最近七天内、不晚于当前时间。")
	msgTrackPointAccuracy = msg.New("cases.field.track_point_accuracy",
		"Point %d has an accuracy that is not a distance in metres.",
		"第 %d 个点的精度不是以米计的距离。")
	msgTrackViewPosts = msg.New("cases.field.track_view_posts",
		"Patrol tracks are for the shift lead, the dispatcher, the leader and the tenant admin; an inspector sees their own.",
		"巡查轨迹供值班长、派遣员、领导和管理员查看；监督员只能查看本人的轨迹。")
	msgFieldReportPart = msg.New("cases.field.report_part",
		"Send the report as a multipart form: the part \"report\" holds its JSON, the parts \"photo\" its photos.",
		"请以 multipart 表单上报：\"report\" 部分为上报内容的 JSON，\"photo\" 部分为照片。")
	msgFieldDate = msg.New("cases.field.date",
		"date is a day like 2026-03-02.",
		"date 应为日期，如 2026-03-02。")
	msgFieldNUL = msg.New("cases.field.nul",
		"The text of %s holds a NUL byte.",
		"%s 的内容含有 NUL 字节。")
)
