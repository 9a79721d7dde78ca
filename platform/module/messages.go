package module

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgBodyCouldNotReadJson = msg.New("module.body_could_not_read_json",
		"The body could not be read as JSON.",
		"无法将请求体读取为 JSON。")
	msgBodyEmptySendJsonObject = msg.New("module.body_empty_send_json_object",
		"The body is empty; send a JSON object.",
		"请求体为空，请发送一个 JSON 对象。")
	msgBodyEndsMiddleJsonValue = msg.New("module.body_ends_middle_json_value",
		"The body ends in the middle of a JSON value.",
		"请求体在 JSON 值的中途结束。")
	msgBodyMustJsonNot = msg.New("module.body_must_json_not",
		"The body must be a JSON %s, not a %s.",
		"请求体应为 JSON %s，而不是 %s。")
	msgBodyMustJsonObject = msg.New("module.body_must_json_object",
		"The body must be a JSON object ({…}).",
		"请求体必须是一个 JSON 对象（{…}）。")
	msgBodyMustSingleJsonValue = msg.New("module.body_must_single_json_value",
		"The body must be a single JSON value; there is more after it.",
		"请求体只能是一个 JSON 值，其后还有多余内容。")
	msgBodyNotValidJsonError = msg.New("module.body_not_valid_json_error",
		"The body is not valid JSON (error at byte %d).",
		"请求体不是有效的 JSON（第 %d 字节处出错）。")
	msgFieldAppearsMoreThanOnce = msg.New("module.field_appears_more_than_once",
		"The field %q appears more than once.",
		"字段 %q 出现了不止一次。")
	msgFieldHasNumberDoesNot = msg.New("module.field_has_number_does_not",
		"The field %q has a number that does not fit (%s).",
		"字段 %q 的数值超出范围或格式不符（%s）。")
	msgFieldMustNot = msg.New("module.field_must_not",
		"The field %q must be a %s, not a %s.",
		"字段 %q 应为 %s，而不是 %s。")
	msgFieldNotKnownHere = msg.New("module.field_not_known_here",
		"The field %q is not known here.",
		"此处没有字段 %q。")
	msgFileEmpty = msg.New("module.file_empty",
		"The file is empty.",
		"文件为空。")
	msgFileLargerThanMib = msg.New("module.file_larger_than_mib",
		"The file is larger than %d MiB.",
		"文件超过 %d MiB。")
	msgImportRejected = msg.New("module.import_rejected",
		"%d problem(s) found; nothing was imported. Fix the rows listed and send the whole file again.",
		"发现 %d 处问题，未导入任何内容。请改正所列各行后重新发送整个文件。")
	msgJsonBodyMayMostKib = msg.New("module.json_body_may_most_kib",
		"A JSON body may be at most %d KiB; this one is %d KiB.",
		"JSON 请求体最多 %d KiB，此请求体为 %d KiB。")
	msgSendBodyJsonContentType = msg.New("module.send_body_json_content_type",
		"Send the body as JSON with Content-Type: application/json.",
		"请以 JSON 格式发送请求体，并设置 Content-Type: application/json。")
	msgSendFileContentTypeForm = msg.New("module.send_file_content_type_form",
		"Send the file as %s (Content-Type), or as the form field \"file\".",
		"请以 %s（Content-Type）发送文件，或通过表单字段 \"file\" 发送。")
	msgSendFileFormFieldFile = msg.New("module.send_file_form_field_file",
		"Send the file in the form field \"file\".",
		"请通过表单字段 \"file\" 发送文件。")
	msgUploadedFileCannotRead = msg.New("module.uploaded_file_cannot_read",
		"The uploaded file cannot be read.",
		"无法读取上传的文件。")
	msgYouNeedRoleTenantDo = msg.New("module.you_need_role_tenant_do",
		"You need the role %s in this tenant to do this.",
		"需要本单位的 %s 岗位才能进行此操作。")
)
