package console

import "github.com/cityops/cityops/internal/msg"

// Single sign-on's messages of the console (sso.go, sso_admin.go): English, then Chinese.
var msgNoWaitingAccount = msg.New("console.sso_no_waiting_account",
	"There is no waiting account %s.",
	"没有待批准的账号 %s。")
