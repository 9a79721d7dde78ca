package app

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgQueryNotUTF8 = msg.New("app.query_not_utf8",
		"The query parameter %q is not valid UTF-8 text.",
		"查询参数 %q 不是有效的 UTF-8 文本。")
	msgQueryControl = msg.New("app.query_control",
		"The query parameter %q contains a NUL byte or a control character, which is not allowed.",
		"查询参数 %q 含有不允许的空字符（NUL）或控制字符。")
	msgFormNotUTF8 = msg.New("app.form_not_utf8",
		"The form field %q is not valid UTF-8 text.",
		"表单字段 %q 不是有效的 UTF-8 文本。")
	msgFormControl = msg.New("app.form_control",
		"The form field %q contains a NUL byte or a control character, which is not allowed.",
		"表单字段 %q 含有不允许的空字符（NUL）或控制字符。")
	msgAddressUrlPathContainsNul = msg.New("app.address_url_path_contains_nul",
		"The address (URL path) contains a NUL byte, a control character or invalid UTF-8.",
		"请求地址（URL 路径）含有空字符（NUL）、控制字符或无效的 UTF-8 编码。")
	msgBodyNotValidUtfText = msg.New("app.body_not_valid_utf_text",
		"The body is not valid UTF-8 text (at byte %d).",
		"请求体不是有效的 UTF-8 文本（第 %d 字节处）。")
	msgBodyNotWellFormedMultipart = msg.New("app.body_not_well_formed_multipart",
		"The body is not a well-formed multipart form.",
		"请求体不是格式正确的 multipart 表单。")
	msgObjectStoreUnreachable = msg.New("app.object_store_unreachable",
		"not reachable (photos and offboarding archives fail until it is)",
		"无法访问（恢复前照片和注销导出文件不可用）")
	msgCLIOffboarded = msg.New("app.cli_offboarded",
		"tenant %s offboarded; its export is %s in the object store (%s)",
		"单位 %s 已注销；其导出文件为 %s（对象存储：%s）")
	msgCLIExported = msg.New("app.cli_exported",
		"exported %s to %s",
		"已将 %s 导出到 %s")
	msgCLIExportedClear = msg.New("app.cli_exported_clear",
		"exported %s to %s with citizens' personal data in clear (recorded in the audit log): keep the file only where personal information may be kept, and delete it when it is no longer needed",
		"已将 %s 导出到 %s，其中的群众个人信息为明文（已记入审计日志）：请仅存放在允许保存个人信息的位置，不再需要时删除")
	msgCLIWaived = msg.New("app.cli_waived",
		"tenant %s: the export of personal data in clear is waived (recorded in the audit log); offboarding will destroy its personal data with its key",
		"单位 %s：已声明无需导出明文个人信息（已记入审计日志）；注销时其个人信息将随密钥一起销毁")
	msgDatabaseNotReachable = msg.New("app.database_not_reachable",
		"The database is not reachable.",
		"无法连接数据库。")
	msgDateNotYyyyMmDd = msg.New("app.date_not_yyyy_mm_dd",
		"The date %q is not YYYY-MM-DD.",
		"日期 %q 不符合 YYYY-MM-DD 格式。")
	msgFieldContainsNulByteControl = msg.New("app.field_contains_nul_byte_control",
		"The field %q contains a NUL byte or a control character, which is not allowed.",
		"字段 %q 含有不允许的空字符（NUL）或控制字符。")
	msgFormHasExpiredDidNot = msg.New("app.form_has_expired_did_not",
		"The form has expired or did not come from this site (CSRF check failed); reload the page and try again.",
		"表单已过期或不是来自本站（CSRF 校验失败）；请刷新页面后重试。")
	msgFormWasSentFromAnother = msg.New("app.form_was_sent_from_another",
		"This form was sent from another site; open the page on this site and send it again.",
		"该表单来自其他网站；请在本站打开页面后重新提交。")
	msgFormatNotCsvJsonPrintable = msg.New("app.format_not_csv_json_printable",
		"The format %q is not csv or json (the printable page is at /api/v1/t/SLUG/billing/statements/YEAR?format=html).",
		"格式 %q 不是 csv 或 json（可打印页面位于 /api/v1/t/SLUG/billing/statements/YEAR?format=html）。")
	msgGiveTenantTenantSlug = msg.New("app.give_tenant_tenant_slug",
		"Give the tenant with --tenant SLUG.",
		"请用 --tenant SLUG 指定单位。")
	msgHeaderContainsNulByteControl = msg.New("app.header_contains_nul_byte_control",
		"The header %s contains a NUL byte, a control character or invalid UTF-8.",
		"请求头 %s 含有空字符（NUL）、控制字符或无效的 UTF-8 编码。")
	msgJsonBodyNestedMoreThan = msg.New("app.json_body_nested_more_than",
		"The JSON body is nested more than %d levels deep.",
		"JSON 请求体的嵌套超过 %d 层。")
	msgMediaTypeNotAccepted = msg.New("app.media_type_not_accepted",
		"This media type is not accepted.",
		"不接受该媒体类型。")
	msgMemberNameBodyContainsNul = msg.New("app.member_name_body_contains_nul",
		"A member name in the body contains a NUL byte or a control character.",
		"请求体中的字段名含有空字符（NUL）或控制字符。")
	msgMethodNotAllowedHere = msg.New("app.method_not_allowed_here",
		"This method is not allowed here.",
		"此处不允许该请求方法。")
	msgModuleNotPlanOperatingCompany = msg.New("app.module_not_plan_operating_company",
		"The module %s is not in the plan %s of %s; the operating company can add it.",
		"模块「%s」不在「%s」套餐内（%s），可联系运营公司开通。")
	msgNameFileUploadedContainsNul = msg.New("app.name_file_uploaded_contains_nul",
		"The name of the file uploaded in %q contains a NUL byte, a control character or invalid UTF-8.",
		"字段 %q 上传的文件名含有空字符（NUL）、控制字符或无效的 UTF-8 编码。")
	msgOnlyOperatingCompanyStaffMay = msg.New("app.only_operating_company_staff_may",
		"Only the operating company's staff may do this.",
		"只有运营方人员可以进行此操作。")
	msgPleaseLogFirst = msg.New("app.please_log_first",
		"Please log in first.",
		"请先登录。")
	msgRequestBodyTooLarge = msg.New("app.request_body_too_large",
		"The request body is too large.",
		"请求体过大。")
	msgRequestCouldNotReadCompletely = msg.New("app.request_could_not_read_completely",
		"The request could not be read completely.",
		"未能完整读取请求。")
	msgRequestCouldNotUnderstood = msg.New("app.request_could_not_understood",
		"The request could not be understood.",
		"无法理解该请求。")
	msgRequestTookTooLong = msg.New("app.request_took_too_long",
		"The request took too long.",
		"请求耗时过长。")
	msgServerShuttingDownStartAgain = msg.New("app.server_shutting_down_start_again",
		"The server is shutting down; start again once it is back.",
		"服务器正在关闭；请待其恢复后再开始。")
	msgThereNothingAddress = msg.New("app.there_nothing_address",
		"There is nothing at this address.",
		"此地址没有内容。")
	msgTooManyRequestsWaitMoment = msg.New("app.too_many_requests_wait_moment",
		"Too many requests; wait a moment and try again.",
		"请求过多，请稍候再试。")
	msgUseAuthorizationHeaderBearerToken = msg.New("app.use_authorization_header_bearer_token",
		"Use the Authorization header as: Bearer <token>.",
		"请按如下格式使用 Authorization 请求头：Bearer <令牌>。")
	msgWriteModuleSwitchesNameName = msg.New("app.write_module_switches_name_name",
		"Write module switches as name=on or name=off, not %q.",
		"模块开关应写作 name=on 或 name=off，而不是 %q。")
	msgYearNotNumber = msg.New("app.year_not_number",
		"The year %q is not a number.",
		"年份 %q 不是数字。")
	msgYourAccessReadOnly = msg.New("app.your_access_read_only",
		"Your access to %s is read-only.",
		"您对 %s 的访问是只读的。")
)
