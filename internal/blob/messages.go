package blob

import "github.com/cityops/cityops/internal/msg"

var (
	msgTooLarge = msg.New("blob.too_large",
		"The file may be at most %d MiB.",
		"文件不能超过 %d MiB。")
	msgTypeRefused = msg.New("blob.type_refused",
		"Files of type %s are not accepted here.",
		"此处不接受 %s 类型的文件。")
	msgSizeMismatch = msg.New("blob.size_mismatch",
		"The file ended before or after its stated size.",
		"文件长度与声明的大小不符。")
	msgBadKey = msg.New("blob.bad_key",
		"%q is not a valid object name.",
		"%q 不是有效的对象名称。")
)
