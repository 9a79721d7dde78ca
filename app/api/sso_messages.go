package api

import "github.com/cityops/cityops/internal/msg"

// Single sign-on's messages of the API (sso.go): English, then Chinese.
var (
	msgSSOIdentityID = msg.New("api.sso_identity_id",
		"identity_id must be the id of an account (a UUID).",
		"identity_id 须为账号的 ID（UUID）。")
	msgSSONoRequest = msg.New("api.sso_no_request",
		"There is no waiting account %s.",
		"没有待批准的账号 %s。")
)
