package console

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgNoPage = msg.New("console.no_page",
		"no page %q",
		"没有页面 %q")
	msgChooseOnePost = msg.New("console.choose_one_post",
		"Choose at least one post; to remove the member, use Remove.",
		"请至少选择一个岗位；如需移除该成员，请使用「移出本单位」。")
	msgImportYear = msg.New("console.import_year",
		"Give the year being imported, such as 2026.",
		"请填写导入数据所属的年份，例如 2026。")
	msgChooseFile = msg.New("console.choose_file",
		"Choose a file to upload.",
		"请选择要上传的文件。")
	msgCheckedFileLost = msg.New("console.checked_file_lost",
		"The checked file did not come back intact; choose it again.",
		"已校验的文件未能完整回传，请重新选择文件。")
	msgCheckedFileFormat = msg.New("console.checked_file_format",
		"The checked file's format %q is not accepted here.",
		"此处不接受已校验文件的格式 %q。")
	msgLimitNotNumber = msg.New("console.limit_not_number",
		"The limit %q is not a number.",
		"时限 %q 不是数字。")
	msgUrgentLimitNotNumber = msg.New("console.urgent_limit_not_number",
		"The limit for urgent cases %q is not a number.",
		"紧急案件的时限 %q 不是数字。")
)
