package console

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgNoPage = msg.New("console.no_page",
		"no page %q",
		"没有页面 %q")
)
