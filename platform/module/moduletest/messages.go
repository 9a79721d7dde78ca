package moduletest

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgNoticeNeedsCharactersText = msg.New("moduletest.notice_needs_characters_text",
		"A notice needs 1 to 500 characters of text.",
		"通知内容须为 1 到 500 个字符。")
)
