package open311api

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgFormatXmlJsonServicesXml = msg.New("open311api.format_xml_json_services_xml",
		"The format is xml or json (as in services.xml).",
		"格式应为 xml 或 json（与 services.xml 相同）。")
	msgMediaPhotoCannotRead = msg.New("open311api.media_photo_cannot_read",
		"The media photo cannot be read.",
		"无法读取 media 字段中的照片。")
	msgMediaPhotoMayMostMib = msg.New("open311api.media_photo_may_most_mib",
		"The media photo may be at most %d MiB.",
		"media 字段中的照片不能超过 %d MiB。")
	msgThereNoOpen311ResourceAddress = msg.New("open311api.there_no_open311_resource_address",
		"There is no Open311 resource at this address.",
		"此地址没有 Open311 资源。")
	msgTooManyRequestsApiKey = msg.New("open311api.too_many_requests_api_key",
		"Too many requests with this api_key; wait a minute and try again.",
		"使用该 api_key 的请求过多，请等待一分钟后重试。")
)
