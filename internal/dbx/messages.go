package dbx

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgAccessReadOnly = msg.New("dbx.access_read_only",
		"This access is read-only.",
		"此访问为只读。")
	msgAlreadyExists = msg.New("dbx.already_exists",
		"This already exists.",
		"该记录已存在。")
	msgDataBreaksRuleDatabase = msg.New("dbx.data_breaks_rule_database",
		"The data breaks a rule of the database.",
		"数据违反了数据库的约束规则。")
	msgDatabaseBusyTryAgain = msg.New("dbx.database_busy_try_again",
		"The database is busy; try again.",
		"数据库繁忙，请重试。")
	msgDatabaseTookTooLongTry = msg.New("dbx.database_took_too_long_try",
		"The database took too long; try again.",
		"数据库响应超时，请重试。")
	msgNotFound = msg.New("dbx.not_found",
		"Not found.",
		"未找到。")
	msgRequestTookTooLongTry = msg.New("dbx.request_took_too_long_try",
		"The request took too long; try again.",
		"请求耗时过长，请重试。")
	msgSomeoneElseChangedSameTime = msg.New("dbx.someone_else_changed_same_time",
		"Someone else changed this at the same time; try again.",
		"其他人同时修改了此内容，请重试。")
	msgValueContainsCharacterCannotStored = msg.New("dbx.value_contains_character_cannot_stored",
		"A value contains a character that cannot be stored (such as a NUL byte); remove it and try again.",
		"某个值含有无法保存的字符（例如空字符 NUL）；请删除后重试。")
	msgValueContainsNulByteNot = msg.New("dbx.value_contains_nul_byte_not",
		"A value contains a NUL byte or is not valid UTF-8 text, so it cannot be stored; remove that character and try again.",
		"某个值含有空字符（NUL）或不是有效的 UTF-8 文本，无法保存；请删除该字符后重试。")
)
