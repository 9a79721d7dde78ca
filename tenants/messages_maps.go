package tenants

import "github.com/cityops/cityops/internal/msg"

// Messages of the maps' tile source and the public map settings.
var (
	msgTileSourceNotJSON = msg.New("tenants.tile_source_not_json",
		"The tile source is not a JSON object.",
		"底图来源不是 JSON 对象。")
	msgTileFieldTooLong = msg.New("tenants.tile_field_too_long",
		"%s has at most 500 characters and no control characters.",
		"%s 最多 500 个字符，且不能含控制字符。")
	msgTileMaxZoom = msg.New("tenants.tile_max_zoom",
		"The maximum zoom is between 1 and 22.",
		"最大缩放级别须在 1 到 22 之间。")
	msgTiandituLayer = msg.New("tenants.tianditu_layer",
		"The 天地图 layer is vec (streets), img (imagery) or ter (terrain).",
		"天地图图层须为 vec（矢量）、img（影像）或 ter（地形）。")
	msgTiandituStyle = msg.New("tenants.tianditu_style",
		"The 天地图 service is wmts or xyz.",
		"天地图服务方式须为 wmts 或 xyz。")
	msgWMTSFieldRequired = msg.New("tenants.wmts_field_required",
		"A WMTS source needs %s.",
		"WMTS 底图须填写 %s。")
	msgWMTSFormat = msg.New("tenants.wmts_format",
		"The WMTS format is an image type (image/png, image/jpeg) or tiles.",
		"WMTS 图片格式须为图片类型（image/png、image/jpeg）或 tiles。")
	msgTileKind = msg.New("tenants.tile_kind",
		"The tile source is offline, tianditu, xyz or wmts.",
		"底图来源须为 offline（离线）、tianditu（天地图）、xyz 或 wmts。")
	msgTileURLRequired = msg.New("tenants.tile_url_required",
		"Give the tile service's URL.",
		"请填写瓦片服务地址。")
	msgTileURLInvalid = msg.New("tenants.tile_url_invalid",
		"The tile URL must be an absolute http or https address without a user name, spaces or quotes.",
		"瓦片地址须为 http 或 https 绝对地址，不能含用户名、空格或引号。")
	msgTileURLPlaceholders = msg.New("tenants.tile_url_placeholders",
		"An XYZ template has {z}, {x} and {y} (or {-y}), e.g. https://tiles.example.cn/{z}/{x}/{y}.png.",
		"XYZ 模板须含 {z}、{x} 和 {y}（或 {-y}），例如 https://tiles.example.cn/{z}/{x}/{y}.png。")
	msgTileSubdomainPlace = msg.New("tenants.tile_subdomain_place",
		"{s} may stand once, in the first part of the host name (https://{s}.tiles.example.cn/…).",
		"{s} 只能出现一次，且须在主机名的第一段（https://{s}.tiles.example.cn/…）。")
	msgTileSubdomainsRequired = msg.New("tenants.tile_subdomains_required",
		"With {s} in the URL, give the subdomains as letters or digits (e.g. abc or 01234567).",
		"地址含 {s} 时，请以字母或数字填写子域（例如 abc 或 01234567）。")
	msgPublicMapDays = msg.New("tenants.public_map_days",
		"The public map shows between 1 and 365 days.",
		"公众地图显示的天数须在 1 到 365 之间。")
	msgPublicMapPhotos = msg.New("tenants.public_map_photos",
		"Photos on the public map are true or false.",
		"公众地图是否显示照片须为 true 或 false。")
)
