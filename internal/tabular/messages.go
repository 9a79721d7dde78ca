package tabular

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgCsvFileCannotRead = msg.New("tabular.csv_file_cannot_read",
		"The CSV file cannot be read.",
		"无法读取 CSV 文件。")
	msgCsvFileCannotReadLine = msg.New("tabular.csv_file_cannot_read_line",
		"The CSV file cannot be read at line %d: %v.",
		"无法读取 CSV 文件第 %d 行：%v。")
	msgFileHasNoHeaderRow = msg.New("tabular.file_has_no_header_row",
		"The file has no header row.",
		"文件没有表头行。")
	msgFileHasRowsOneImport = msg.New("tabular.file_has_rows_one_import",
		"The file has %d rows; one import takes at most %d.",
		"文件共有 %d 行；每次导入最多 %d 行。")
	msgFileNeitherUtfNorGbk = msg.New("tabular.file_neither_utf_nor_gbk",
		"The file is neither UTF-8 nor GBK/GB18030 text; save it as UTF-8 and send it again.",
		"文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本；请另存为 UTF-8 后重新上传。")
	msgFileNotReadableXlsxWorkbook = msg.New("tabular.file_not_readable_xlsx_workbook",
		"The file is not a readable XLSX workbook.",
		"该文件不是可读取的 XLSX 工作簿。")
	msgFileNotTextContainsNul = msg.New("tabular.file_not_text_contains_nul",
		"The file is not text (it contains NUL bytes); send CSV in UTF-8 or GBK, or an XLSX workbook.",
		"该文件不是文本（含有 NUL 字节）；请上传 UTF-8 或 GBK 编码的 CSV，或 XLSX 工作簿。")
	msgFileUtfSaveUtfGbk = msg.New("tabular.file_utf_save_utf_gbk",
		"The file is in UTF-16; save it as UTF-8 (or GBK) text and send it again.",
		"该文件为 UTF-16 编码；请另存为 UTF-8（或 GBK）文本后重新上传。")
	msgFirstSheetWorkbookCannotRead = msg.New("tabular.first_sheet_workbook_cannot_read",
		"The first sheet of the workbook cannot be read.",
		"无法读取工作簿的第一个工作表。")
	msgHeaderLacksColumn = msg.New("tabular.header_lacks_column",
		"The header lacks the column(s) %s.",
		"表头缺少以下列：%s。")
	msgSendTableCsvTextCsv = msg.New("tabular.send_table_csv_text_csv",
		"Send the table as CSV (text/csv) or XLSX (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet).",
		"请以 CSV（text/csv）或 XLSX（application/vnd.openxmlformats-officedocument.spreadsheetml.sheet）格式发送表格。")
	msgWorkbookHasNoSheet = msg.New("tabular.workbook_has_no_sheet",
		"The workbook has no sheet.",
		"该工作簿没有工作表。")
)
