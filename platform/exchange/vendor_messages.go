package exchange

import "github.com/cityops/cityops/internal/msg"

// The vendor import's messages (see internal/msg): English, then Chinese.
var (
	msgVendorName = msg.New("exchange.vendor_name",
		"%q does not name a vendor: use 2 to 32 lower-case letters, digits, - and _, starting with a letter (for example szcg-a).",
		"%q 不是有效的厂商名：请使用 2 至 32 位小写字母、数字、- 和 _，以字母开头（例如 szcg-a）。")
	msgVendorUnknownField = msg.New("exchange.vendor_unknown_field",
		"%q is not a field the import fills; the fields are: %s.",
		"%q 不是导入可填写的字段；可用字段：%s。")
	msgVendorEmptyColumn = msg.New("exchange.vendor_empty_column",
		"Name the vendor's column for the field %s, or leave the field out.",
		"请为字段 %s 填写厂商的列名，或删去该字段。")
	msgVendorRequiredField = msg.New("exchange.vendor_required_field",
		"The mapping must name the vendor's column for the field %s.",
		"映射必须为字段 %s 指定厂商的列名。")
	msgVendorLayout = msg.New("exchange.vendor_layout",
		"Time layout %d is empty or too long.",
		"第 %d 个时间格式为空或过长。")
	msgVendorTooManyCodes = msg.New("exchange.vendor_too_many_codes",
		"The code tables hold more than %d entries.",
		"代码对照表超过 %d 条。")
	msgVendorKind = msg.New("exchange.vendor_kind",
		"The vendor's %q maps to %q, which is neither component nor event.",
		"厂商的 %q 对应到 %q，既不是部件（component）也不是事件（event）。")
	msgVendorClass = msg.New("exchange.vendor_class",
		"The vendor's class %q maps to %s %s, which is not one of this tenant's minor classes.",
		"厂商类别 %q 对应到 %s %s，但本单位没有该小类。")
	msgVendorNoStates = msg.New("exchange.vendor_no_states",
		"The state table (codes.state) is empty: map each of the vendor's states or steps to an action of the case loop (report, accept, file, dispatch, take, feedback, check, close, void, …).",
		"状态对照表（codes.state）为空：请将厂商的每个状态或环节对应到案件流程的动作（report、accept、file、dispatch、take、feedback、check、close、void 等）。")
	msgVendorAction = msg.New("exchange.vendor_action",
		"The vendor's state %q maps to %q, which is not an action of the case loop.",
		"厂商状态 %q 对应到 %q，但这不是案件流程的动作。")
	msgVendorSource = msg.New("exchange.vendor_source",
		"The vendor's source %q maps to %q, which is not a source (inspector, citizen, hotline, video, referral, media, sensor).",
		"厂商的问题来源 %q 对应到 %q，但这不是有效来源（inspector、citizen、hotline、video、referral、media、sensor）。")
	msgVendorDepartment = msg.New("exchange.vendor_department",
		"The vendor's department %q maps to %q, which is not the code of one of this tenant's departments.",
		"厂商部门 %q 对应到 %q，但本单位没有该代码的部门。")
	msgVendorMappingSize = msg.New("exchange.vendor_mapping_size",
		"A mapping may be at most %d KiB.",
		"映射最大为 %d KiB。")
	msgVendorAdminOnly = msg.New("exchange.vendor_admin_only",
		"Only the tenant's administrators change mappings and import.",
		"只有本单位管理员可以修改映射和导入数据。")
	msgVendorNoMapping = msg.New("exchange.vendor_no_mapping",
		"There is no mapping for the vendor %q.",
		"没有厂商 %q 的映射。")
	msgVendorFormat = msg.New("exchange.vendor_format",
		"Send the vendor's export as a .csv, .xlsx or .json file.",
		"请以 .csv、.xlsx 或 .json 文件提交厂商导出的数据。")
	msgVendorXLSX = msg.New("exchange.vendor_xlsx",
		"The file is not a readable XLSX workbook, or its first sheet cannot be read.",
		"该文件不是可读取的 XLSX 工作簿，或无法读取其第一个工作表。")
	msgVendorCSVLine = msg.New("exchange.vendor_csv_line",
		"The CSV file cannot be read at line %d: %s.",
		"无法读取 CSV 文件第 %d 行：%s。")
	msgVendorUTF16 = msg.New("exchange.vendor_utf16",
		"The file is in UTF-16; save it as UTF-8 (or GBK) text and send it again.",
		"该文件为 UTF-16 编码；请另存为 UTF-8（或 GBK）文本后重新提交。")
	msgVendorNoHeader = msg.New("exchange.vendor_no_header",
		"The file has no header row.",
		"文件没有表头行。")
	msgVendorMissingColumns = msg.New("exchange.vendor_missing_columns",
		"The file lacks the column(s) the mapping names: %s.",
		"文件缺少映射中指定的列：%s。")
	msgVendorJSONArray = msg.New("exchange.vendor_json_array",
		"The JSON file must be an array of records.",
		"JSON 文件必须是记录数组。")
	msgVendorJSON = msg.New("exchange.vendor_json",
		"Record %d of the JSON file is not a JSON object.",
		"JSON 文件第 %d 条记录不是 JSON 对象。")
	msgVendorOpen = msg.New("exchange.vendor_open",
		"The file %s cannot be opened.",
		"无法打开文件 %s。")
	msgVendorBadText = msg.New("exchange.vendor_bad_text",
		"The value in column %s is not text (control characters or bytes that are not UTF-8), or is too long.",
		"列 %s 的值不是文本（含有控制字符或非 UTF-8 字节），或过长。")
	msgVendorNoRecordID = msg.New("exchange.vendor_no_record_id",
		"The record has no id (column %s).",
		"该记录没有编号（列 %s）。")
	msgVendorAgain = msg.New("exchange.vendor_again",
		"The record %s appeared before, at row %d: keep the rows of one record together.",
		"记录 %s 已在第 %d 行出现过：同一记录的各行须相邻。")
	msgVendorUnmapped = msg.New("exchange.vendor_unmapped",
		"%q (column %s) is not in the mapping's code table.",
		"%q（列 %s）不在映射的代码对照表中。")
	msgVendorPoint = msg.New("exchange.vendor_point",
		"The point (%s, %s) is not a longitude and latitude in China.",
		"坐标（%s, %s）不是中国境内的经纬度。")
	msgVendorGrid = msg.New("exchange.vendor_grid",
		"%q is not a grid code (14 digits).",
		"%q 不是网格编码（14 位数字）。")
	msgVendorTime = msg.New("exchange.vendor_time",
		"%q is not a time in one of the mapping's layouts (for example 2024-03-01 08:30:00).",
		"%q 不是映射所列格式的时间（例如 2024-03-01 08:30:00）。")
	msgVendorTimeOrder = msg.New("exchange.vendor_time_order",
		"The history row at %s is earlier than the row before it: a record's history rows must be in time order.",
		"时间为 %s 的流转记录早于上一条：记录的流转记录须按时间先后排列。")
	msgVendorNoHistory = msg.New("exchange.vendor_no_history",
		"The record %s has no history rows.",
		"记录 %s 没有流转记录。")
	msgVendorFirstReport = msg.New("exchange.vendor_first_report",
		"The history starts with %q, which is not mapped to report or self_handle: a case's history starts with its report.",
		"流转记录以 %q 开始，但它未对应到 report 或 self_handle：案件的流转记录应以上报开始。")
	msgVendorReportAgain = msg.New("exchange.vendor_report_again",
		"%q maps to report or self_handle, which only the first history row may be.",
		"%q 对应到 report 或 self_handle，只有第一条流转记录可以如此。")
	msgVendorHistoryChanged = msg.New("exchange.vendor_history_changed",
		"The history of record %s differs from the one imported before at row %d of its history; imported history is append-only, so a corrected record may only add rows after it.",
		"记录 %s 的流转记录自第 %d 条起与先前导入的不同；导入的流转记录只能追加，修正后的记录只能在其后增加新行。")
	msgVendorSummary = msg.New("exchange.vendor_summary",
		"%d records imported: %d cases created, %d updated, %d unchanged, %d kept as the case loop left them; %d history events written.",
		"已导入 %d 条记录：新建案件 %d 件，更新 %d 件，未变 %d 件，保留案件流程中的现状 %d 件；写入流转记录 %d 条。")
	msgVendorSummaryDry = msg.New("exchange.vendor_summary_dry",
		"Dry run of %d records: %d cases would be created, %d updated, %d unchanged, %d kept as the case loop left them. Nothing was written.",
		"试运行 %d 条记录：将新建案件 %d 件，更新 %d 件，未变 %d 件，保留案件流程中的现状 %d 件。未写入任何数据。")
	msgVendorSummaryRejected = msg.New("exchange.vendor_summary_rejected",
		"%d records read; %d problems (%d distinct values could not be mapped). Nothing was written.",
		"已读取 %d 条记录；发现 %d 个问题（%d 个不同的值无法对应）。未写入任何数据。")
)

var (
	msgVendorVersion = msg.New("exchange.vendor_version",
		"%q is not a mapping version (a whole number).",
		"%q 不是映射版本号（应为整数）。")
	msgVendorPathBody = msg.New("exchange.vendor_path_body",
		"The mapping is for the vendor %q but was sent to the address of %q.",
		"该映射属于厂商 %q，却提交到了 %q 的地址。")
	msgVendorBusy = msg.New("exchange.vendor_busy",
		"Another import of %s wrote some of these records at the same time; import the file again (it continues where it stopped).",
		"另一次 %s 的导入同时写入了部分记录；请重新导入该文件（将从中断处继续）。")
	msgVendorUpload = msg.New("exchange.vendor_upload",
		"Send the vendor's export as the multipart form part \"file\".",
		"请以 multipart 表单字段 \"file\" 上传厂商导出的文件。")
)
