package exchange

import "github.com/cityops/cityops/internal/msg"

// The messages of XLSX files with the history on a sheet of its own (vendor_sheet.go): English,
// then Chinese.
var (
	msgVendorSheetOnly = msg.New("exchange.vendor_sheet_only",
		"history.record_id names the record id's column on the history sheet: set history.sheet too.",
		"history.record_id 指定流转记录工作表中的案件编号列：请同时设置 history.sheet。")
	msgVendorSheetPull = msg.New("exchange.vendor_sheet_pull",
		"history.sheet is for XLSX files; a pull reads JSON records with their history nested (history.key): leave one of them out.",
		"history.sheet 只用于 XLSX 文件；接口拉取读取的是内嵌流转记录的 JSON 记录（history.key）：请去掉其中之一。")
	msgVendorSheetXLSX = msg.New("exchange.vendor_sheet_xlsx",
		"The mapping reads the history from the sheet %q of an XLSX file; this file is %s.",
		"该映射从 XLSX 文件的工作表 %q 读取流转记录；此文件是 %s 文件。")
	msgVendorNoSheet = msg.New("exchange.vendor_no_sheet",
		"The workbook has no sheet %q (its sheets: %s).",
		"工作簿中没有工作表 %q（现有工作表：%s）。")
	msgVendorSheetFirst = msg.New("exchange.vendor_sheet_first",
		"The history sheet %q is the first sheet, which holds the cases: name the sheet of the history.",
		"流转记录工作表 %q 是第一个工作表（案件所在的工作表）：请指定流转记录所在的工作表。")
	msgVendorSheetColumns = msg.New("exchange.vendor_sheet_columns",
		"The sheet %q lacks the column(s) the mapping names: %s.",
		"工作表 %q 缺少映射中指定的列：%s。")
	msgVendorSheetNoHeader = msg.New("exchange.vendor_sheet_no_header",
		"The sheet %q has no header row.",
		"工作表 %q 没有表头行。")
	msgVendorSheetTooLarge = msg.New("exchange.vendor_sheet_too_large",
		"The sheet %q holds more than %d history rows: split the file, or export it as CSV.",
		"工作表 %q 的流转记录超过 %d 行：请拆分文件，或导出为 CSV。")
	msgVendorOrphanRow = msg.New("exchange.vendor_orphan_row",
		"This history row belongs to the record %s, which is not on the sheet %q.",
		"此流转记录属于案件 %s，但工作表 %q 中没有该案件。")
	msgVendorRowNoID = msg.New("exchange.vendor_row_no_id",
		"This history row names no record in the column %s.",
		"此流转记录的 %s 列未填写案件编号。")
)
