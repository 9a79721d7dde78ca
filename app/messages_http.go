package app

import "github.com/cityops/cityops/internal/msg"

// Messages of the API's own answers that are not errors of a package below.
var msgImportRejected = msg.New("app.import_rejected",
	"%d problem(s) found; nothing was imported. Fix the rows listed and send the whole file again.",
	"发现 %d 处问题，未导入任何内容。请改正所列各行后重新发送整个文件。")
