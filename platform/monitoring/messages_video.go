package monitoring

import "github.com/cityops/cityops/internal/msg"

// Video's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgTypeCamera = msg.New("monitoring.type.camera", "Camera", "摄像头")

	msgSourceURL = msg.New("monitoring.video.source_url",
		"The %s must be a URL of scheme %s with a host, without spaces, of at most %d bytes.",
		"%s 须为协议为 %s 且含主机名的 URL，不含空格，不超过 %d 字节。")
	msgExternalPath = msg.New("monitoring.video.external_path",
		"The external_path must be a media server path of segments of letters, digits, '-', '_' or '.' (for example \"chuxiong/cam-01\").",
		"external_path 须为流媒体服务器路径，各段由字母、数字、“-”“_”“.”组成（例如 “chuxiong/cam-01”）。")
	msgProtocol = msg.New("monitoring.video.bad_protocol",
		"The protocol %q is not one of %s.", "接入协议 %q 不在 %s 之中。")
	msgNoCipher = msg.New("monitoring.video.no_cipher",
		"The secret store is not available, so a camera's source cannot be sealed or opened now.",
		"密钥服务不可用，暂时无法加密或读取摄像头的视频源地址。")
	msgNoScope = msg.New("monitoring.video.no_scope",
		"Video was used without a tenant.", "视频功能在无租户的情况下被调用。")
	msgNoCamera = msg.New("monitoring.video.no_camera",
		"There is no camera %q.", "没有摄像头 %q。")
	msgOnlyPrefectureShares = msg.New("monitoring.video.only_prefecture_shares",
		"Only a prefecture shares its cameras with its counties.", "只有州（市）级单位可以向下属县（市）共享摄像头。")
	msgNotYourCounty = msg.New("monitoring.video.not_your_county",
		"%q is not one of this prefecture's counties.", "%q 不是本州（市）下属的县（市）。")
	msgNoSource = msg.New("monitoring.video.no_source",
		"The camera %s has no video source yet; an admin registers it (PUT …/cameras/%[1]s/source).",
		"摄像头 %s 尚未登记视频源，请管理员登记（PUT …/cameras/%[1]s/source）。")
	msgVideoOff = msg.New("monitoring.video.off",
		"Live video is off on this server: the operator has not set CITYOPS_FFMPEG (the path of ffmpeg) or an external media server.",
		"本服务器未开启实时视频：运营方未设置 CITYOPS_FFMPEG（ffmpeg 路径）或外部流媒体服务器。")
	msgCameraNoAnswer = msg.New("monitoring.video.camera_no_answer",
		"The camera did not answer with a stream; check that it is online and its source is right.",
		"摄像头未返回视频流，请检查其是否在线、视频源地址是否正确。")
	msgNoSegment = msg.New("monitoring.video.no_segment",
		"No such part of the live stream (it may have ended; reload the player).", "直播流中没有该分片（可能已结束，请重新加载播放器）。")
	msgFFmpegFailed = msg.New("monitoring.video.ffmpeg_failed",
		"The video gateway could not start ffmpeg; the operator should check CITYOPS_FFMPEG.",
		"视频网关无法启动 ffmpeg，请运营方检查 CITYOPS_FFMPEG。")
	msgSnapshotNotJPEG = msg.New("monitoring.video.snapshot_not_jpeg",
		"A snapshot must be a JPEG image.", "抓拍图片须为 JPEG 格式。")
	msgSnapshotTooLarge = msg.New("monitoring.video.snapshot_too_large",
		"A snapshot may be at most %d KiB.", "抓拍图片不得超过 %d KiB。")
	msgNoSnapshot = msg.New("monitoring.video.no_snapshot",
		"The alarm %s has no snapshot.", "告警 %s 没有抓拍图片。")

	msgEventOccupiedRoad   = msg.New("monitoring.event.occupied_road", "Occupied road (street business)", "占道经营")
	msgEventExposedGarbage = msg.New("monitoring.event.exposed_garbage", "Exposed garbage", "暴露垃圾")
	msgEventStreetVending  = msg.New("monitoring.event.street_vending", "Street vending", "流动摊贩")
	msgEventIllegalParking = msg.New("monitoring.event.illegal_parking", "Illegal parking", "违规停车")
	msgEventOverflowingBin = msg.New("monitoring.event.overflowing_bin", "Overflowing bin", "垃圾满溢")
	msgEventWaterlogging   = msg.New("monitoring.event.road_waterlogging", "Road waterlogging", "道路积水")
	msgEventSmokeFire      = msg.New("monitoring.event.smoke_fire", "Smoke or fire", "烟火")

	msgUnknownEventType = msg.New("monitoring.video.unknown_event_type",
		"The event type %q is unknown here: use a built-in type (GET …/monitoring/video/event-types) or have an admin add it.",
		"事件类型 %q 未定义：请使用内置类型（GET …/monitoring/video/event-types），或由管理员添加。")
	msgEventTypeCode = msg.New("monitoring.video.event_type_code",
		"The event type %q must be 1 to 64 letters, digits, '-', '_' or '.'.", "事件类型 %q 须为 1 至 64 个字母、数字、“-”“_”或“.”。")
	msgEventAction = msg.New("monitoring.video.event_action",
		"The action must be alarm, confirm or case.", "处置方式须为 alarm（仅告警）、confirm（人工确认后立案）或 case（自动立案）。")
	msgEventSeverity = msg.New("monitoring.video.event_severity",
		"The severity must be one of %s.", "告警级别须为 %s 之一。")
	msgConfidence = msg.New("monitoring.video.confidence",
		"The %s must be a number from 0 to 1.", "%s 须为 0 至 1 之间的数。")
	msgEventCaseKind = msg.New("monitoring.video.event_case_kind",
		"A type that opens cases needs case_kind event or component.", "立案的事件类型须指定 case_kind（event 事件或 component 部件）。")
	msgEventClass = msg.New("monitoring.video.event_class",
		"A type that opens cases needs the case's class_code.", "立案的事件类型须指定案件分类编码 class_code。")
	msgEventID = msg.New("monitoring.video.event_id",
		"The event's id must be 1 to 64 letters, digits, '-', '_' or '.'.", "事件 id 须为 1 至 64 个字母、数字、“-”“_”或“.”。")
	msgEventTime = msg.New("monitoring.video.event_time",
		"The event's time must be within the last 24 hours and not in the future.", "事件时间须在最近 24 小时内，且不得晚于当前时间。")
	msgOnlyCamerasSendEvents = msg.New("monitoring.video.only_cameras",
		"The device %s is not a camera: only cameras send video events.", "设备 %s 不是摄像头：只有摄像头可上报视频事件。")
	msgEventInFlight = msg.New("monitoring.video.event_in_flight",
		"The event %s is being taken by another request; send it again to get its answer.", "事件 %s 正由另一请求处理，请重发以获取结果。")
)

// The camera pages' texts (templates/camera*.html).
var _ = msg.Define(
	msg.Text{ID: "monitoring.video.cameras", ZH: "视频监控", EN: "Cameras"},
	msg.Text{ID: "monitoring.video.intro", ZH: "本单位的摄像头，以及州（市）共享给本单位的摄像头（只读）。实时画面经平台的视频网关转为 HLS 在浏览器中播放。", EN: "This tenant's cameras, and the cameras the prefecture shares with it (read-only). Live video is turned into HLS by the platform's video gateway and played in the browser."},
	msg.Text{ID: "monitoring.video.no_cameras", ZH: "尚无摄像头。管理员可通过 API 登记摄像头及其视频源。", EN: "No cameras yet. An admin registers cameras and their sources through the API."},
	msg.Text{ID: "monitoring.video.protocol", ZH: "接入协议", EN: "Protocol"},
	msg.Text{ID: "monitoring.video.source", ZH: "视频源", EN: "Source"},
	msg.Text{ID: "monitoring.video.owner", ZH: "共享自", EN: "Shared by"},
	msg.Text{ID: "monitoring.video.shared_with", ZH: "已共享给", EN: "Shared with"},
	msg.Text{ID: "monitoring.video.not_configured", ZH: "未登记视频源", EN: "No source registered"},
	msg.Text{ID: "monitoring.video.live", ZH: "实时画面", EN: "Live"},
	msg.Text{ID: "monitoring.video.off_page", ZH: "本服务器未开启实时视频（运营方未设置 CITYOPS_FFMPEG 或外部流媒体服务器）。告警、抓拍与事件照常工作。", EN: "Live video is off on this server (the operator has not set CITYOPS_FFMPEG or an external media server). Alarms, snapshots and events work as usual."},
	msg.Text{ID: "monitoring.video.loading", ZH: "正在连接摄像头…", EN: "Connecting to the camera…"},
	msg.Text{ID: "monitoring.video.failed", ZH: "无法播放：摄像头未返回视频流，或浏览器不支持该视频编码。", EN: "Cannot play: the camera sent no stream, or the browser cannot decode its video."},
	msg.Text{ID: "monitoring.video.snapshot", ZH: "抓拍", EN: "Snapshot"},
	msg.Text{ID: "monitoring.video.take_snapshot", ZH: "立即抓拍", EN: "Take a snapshot"},
	msg.Text{ID: "monitoring.video.alarms", ZH: "近期视频告警", EN: "Recent video alarms"},
	msg.Text{ID: "monitoring.video.no_alarms", ZH: "该摄像头近期没有告警。", EN: "No recent alarms from this camera."},
	msg.Text{ID: "monitoring.video.shared_alarms", ZH: "共享摄像头的告警由共享方（州、市）处理。", EN: "A shared camera's alarms are handled by the prefecture that shares it."},
	msg.Text{ID: "monitoring.video.kind", ZH: "事件类型", EN: "Event type"},
	msg.Text{ID: "monitoring.video.raised", ZH: "发生时间", EN: "Raised"},
	msg.Text{ID: "monitoring.video.hits", ZH: "次数", EN: "Hits"},
	msg.Text{ID: "monitoring.video.state", ZH: "状态", EN: "State"},
	msg.Text{ID: "monitoring.video.case", ZH: "案件", EN: "Case"},
	msg.Text{ID: "monitoring.video.read_only", ZH: "只读（共享）", EN: "Read-only (shared)"},
	msg.Text{ID: "monitoring.video.back", ZH: "返回摄像头列表", EN: "Back to the cameras"},
)
