package exchange

import "github.com/cityops/cityops/internal/msg"

// The messages of the vendor import of grids, components, departments and staff (see
// internal/msg): English, then Chinese.
var (
	msgVendorEntity = msg.New("exchange.vendor_entity",
		"%q is not something a vendor import takes: %s.",
		"%q 不是厂商导入可导入的内容：%s。")
	msgVendorEntityOff = msg.New("exchange.vendor_entity_off",
		"This server does not import %s.",
		"本服务器不导入 %s。")
	msgVendorNoSection = msg.New("exchange.vendor_no_section",
		"The mapping of %s has no section %s: add it (its fields) and save the mapping first.",
		"厂商 %s 的映射没有 %s 部分：请先添加（其字段）并保存映射。")
	msgVendorNoCaseFields = msg.New("exchange.vendor_no_case_fields",
		"The mapping of %s maps no case fields: import its files of grids, components, departments or staff by entity.",
		"厂商 %s 的映射未对应任何案件字段：请按类别导入其网格、部件、部门或人员文件。")
	msgVendorEntityRows = msg.New("exchange.vendor_entity_rows",
		"The file holds more than %d records; split it.",
		"文件超过 %d 条记录，请拆分。")
	msgVendorPost = msg.New("exchange.vendor_post",
		"The vendor's role %q maps to %q, which is not a post (inspector, acceptor, shift_lead, dispatcher, handler, leader).",
		"厂商角色 %q 对应到 %q，但这不是岗位（inspector、acceptor、shift_lead、dispatcher、handler、leader）。")
	msgVendorGeometry = msg.New("exchange.vendor_geometry",
		"The value in column %s is not a polygon: give GeoJSON, WKT (POLYGON or MULTIPOLYGON) or a ring of lon,lat pairs separated by semicolons.",
		"列 %s 的值不是多边形：请使用 GeoJSON、WKT（POLYGON 或 MULTIPOLYGON）或以分号分隔的“经度,纬度”环。")
	msgVendorEntityMoved = msg.New("exchange.vendor_entity_moved",
		"The record %s was imported as %s; it cannot become %s (correct the mapping, or the record's code).",
		"记录 %s 已导入为 %s，不能改为 %s（请更正映射或该记录的编码）。")
	msgVendorEntitySummary = msg.New("exchange.vendor_entity_summary",
		"%d records of %s imported: %d created, %d updated, %d unchanged.",
		"已导入 %d 条%s记录：新建 %d 条，更新 %d 条，未变 %d 条。")
	msgVendorEntitySummaryDry = msg.New("exchange.vendor_entity_summary_dry",
		"Dry run of %d records of %s: %d would be created, %d updated, %d unchanged. Nothing was written.",
		"试运行 %d 条%s记录：将新建 %d 条，更新 %d 条，未变 %d 条。未写入任何数据。")
)
