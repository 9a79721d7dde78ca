package open311

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAddressNamesNoneJurisdictionStreets = msg.New("open311.address_names_none_jurisdiction_streets",
		"The address %q names none of this jurisdiction's streets, communities or grids, so it cannot be placed on the map; send lat and long.",
		"地址 %q 未包含本辖区任何街道、社区或网格的名称，无法在地图上定位；请提供 lat 和 long。")
	msgApiKeyNotValidJurisdiction = msg.New("open311.api_key_not_valid_jurisdiction",
		"The api_key is not valid for this jurisdiction (unknown or revoked).",
		"该 api_key 对本辖区无效（未知或已吊销）。")
	msgApiKeyRequiredCreateRequest = msg.New("open311.api_key_required_create_request",
		"api_key is required to create a request; ask the jurisdiction for one.",
		"创建请求需要 api_key；请向本辖区申请。")
	msgClientNameRequiredMostCharacters = msg.New("open311.client_name_required_most_characters",
		"The client's name is required (at most 100 characters).",
		"客户端名称必填（不超过 100 个字符）。")
	msgDecimalNumberWgs84Degrees = msg.New("open311.decimal_number_wgs84_degrees",
		"%s is a decimal number (WGS84 degrees).",
		"%s 须为十进制数（WGS84 坐标，单位为度）。")
	msgEndDateAfterStartDate = msg.New("open311.end_date_after_start_date",
		"end_date is after start_date.",
		"end_date 须晚于 start_date。")
	msgGiveReportNumberEG = msg.New("open311.give_report_number_e_g",
		"Give the report's number, e.g. 532301-2026-000001.",
		"请提供上报编号，例如 532301-2026-000001。")
	msgHasClosedPublicReportForm = msg.New("open311.has_closed_public_report_form",
		"%s has closed its public report form.",
		"%s 已关闭公众上报表单。")
	msgJurisdictionIdRequiredTenantId = msg.New("open311.jurisdiction_id_required_tenant_id",
		"jurisdiction_id is required (the tenant's id, e.g. chuxiong).",
		"jurisdiction_id 必填（即单位标识，例如 chuxiong）。")
	msgJurisdictionNeedsLatLongWgs84 = msg.New("open311.jurisdiction_needs_lat_long_wgs84",
		"This jurisdiction needs lat and long (WGS84), or an address_string that names one of its streets, communities or grids.",
		"本辖区需要提供 lat 和 long（WGS84），或提供包含本辖区某个街道、社区或网格名称的 address_string。")
	msgJurisdictionSuspendedTakesNoNew = msg.New("open311.jurisdiction_suspended_takes_no_new",
		"The jurisdiction %s is suspended and takes no new requests; its requests can still be read.",
		"辖区 %s 已暂停服务，不再受理新的请求；已有请求仍可查询。")
	msgLatBetweenLongBetweenWgs84 = msg.New("open311.lat_between_long_between_wgs84",
		"lat is between -90 and 90 and long between -180 and 180 (WGS84 degrees).",
		"lat 须在 -90 到 90 之间，long 须在 -180 到 180 之间（WGS84 坐标，单位为度）。")
	msgLocationRequiredLatLongAddress = msg.New("open311.location_required_lat_long_address",
		"A location is required: lat and long, or address_string.",
		"位置必填：请提供 lat 和 long，或 address_string。")
	msgMediaPhotoJpegPngWebp = msg.New("open311.media_photo_jpeg_png_webp",
		"The media photo is a JPEG, PNG or WebP image.",
		"media 照片须为 JPEG、PNG 或 WebP 格式的图片。")
	msgMediaPhotoMayMostMib = msg.New("open311.media_photo_may_most_mib",
		"The media photo may be at most %d MiB.",
		"media 照片不能超过 %d MiB。")
	msgMediaUrlHttpUrlMost = msg.New("open311.media_url_http_url_most",
		"media_url is an http(s) URL of at most 500 characters.",
		"media_url 须为 http(s) URL，且不超过 500 个字符。")
	msgMostServiceRequestIdOnce = msg.New("open311.most_service_request_id_once",
		"At most 100 service_request_id at once.",
		"一次最多查询 100 个 service_request_id。")
	msgNoApiKey = msg.New("open311.no_api_key",
		"No api key %s.",
		"没有 API 密钥 %s。")
	msgNoJurisdiction = msg.New("open311.no_jurisdiction",
		"No jurisdiction %q.",
		"没有辖区 %q。")
	msgNoMinorClass = msg.New("open311.no_minor_class",
		"No %s minor class %s.",
		"没有 %s 小类 %s。")
	msgNoReportNumbered = msg.New("open311.no_report_numbered",
		"No report numbered %q.",
		"没有编号为 %q 的上报。")
	msgNoServiceJurisdiction = msg.New("open311.no_service_jurisdiction",
		"No service %q in this jurisdiction.",
		"本辖区没有服务 %q。")
	msgNoServiceRequest = msg.New("open311.no_service_request",
		"No service request %q.",
		"没有服务请求 %q。")
	msgNoToken = msg.New("open311.no_token",
		"No token %q.",
		"没有令牌（token）%q。")
	msgNotPublicService = msg.New("open311.not_public_service",
		"%s is not a public service.",
		"%s 不是面向公众的服务。")
	msgServiceCodeReadsEventComponent = msg.New("open311.service_code_reads_event_component",
		"A service code reads event-0101 or component-0101.",
		"服务代码的格式为 event-0101 或 component-0101。")
	msgServiceCodeRequired = msg.New("open311.service_code_required",
		"service_code is required.",
		"service_code 必填。")
	msgStatusOpenClosed = msg.New("open311.status_open_closed",
		"status is open or closed.",
		"status 取值为 open 或 closed。")
	msgTakesNoReportsFromPublic = msg.New("open311.takes_no_reports_from_public",
		"%s takes no reports from the public.",
		"%s 不受理公众上报。")
	msgW3cDateTimeZoneE = msg.New("open311.w3c_date_time_zone_e",
		"%s is a W3C date-time with a zone, e.g. 2026-03-02T08:00:00+08:00 (got %q).",
		"%s 须为带时区的 W3C 日期时间，例如 2026-03-02T08:00:00+08:00（收到的是 %q）。")
)
