package tenants

import "github.com/cityops/cityops/internal/msg"

// Single sign-on's messages (sso.go): English, then Chinese.
var (
	msgSSOKeyNotValid = msg.New("tenants.sso_key_not_valid",
		"The provider key %q is not valid: 2 to 31 lower-case letters, digits and hyphens, starting with a letter (it appears in the redirect URI).",
		"身份提供方标识 %q 无效：须为 2 至 31 个小写字母、数字或连字符，以字母开头（它出现在回调地址中）。")
	msgSSODisplayName = msg.New("tenants.sso_display_name",
		"Give the provider a display name of at most 60 characters; it is shown on the button \"Sign in with …\".",
		"请填写身份提供方的显示名称（最多 60 个字），它显示在“使用……登录”按钮上。")
	msgSSOIssuer = msg.New("tenants.sso_issuer",
		"The issuer %q is not valid: give the provider's issuer URL exactly as its discovery document says, such as https://sso.example.gov.cn/realms/county.",
		"签发者地址 %q 无效：请按身份提供方发现文档中的 issuer 原样填写，例如 https://sso.example.gov.cn/realms/county。")
	msgSSOIssuerHTTPS = msg.New("tenants.sso_issuer_https",
		"The issuer %q must use https (plain http is accepted only for a provider on this machine).",
		"签发者地址 %q 必须使用 https（仅本机上的身份提供方可用 http）。")
	msgSSOClientID = msg.New("tenants.sso_client_id",
		"Give the client id the provider registered for CityOps (printable characters without spaces, at most 200).",
		"请填写身份提供方为本平台登记的客户端 ID（不含空格的可打印字符，最多 200 个）。")
	msgSSOClaim = msg.New("tenants.sso_claim",
		"The claim %q is not valid: use email, phone_number or the name of the claim that carries the employee number.",
		"匹配声明 %q 无效：请使用 email、phone_number 或携带工号的声明名称。")
	msgSSOScopes = msg.New("tenants.sso_scopes",
		"The scope %q is not valid: scopes are separated by spaces, at most 20 of them.",
		"授权范围 %q 无效：多个范围以空格分隔，最多 20 个。")
	msgSSONoProvider = msg.New("tenants.sso_no_provider",
		"There is no identity provider %v here.",
		"这里没有身份提供方 %v。")
	msgSSOLastProvider = msg.New("tenants.sso_last_provider",
		"%s is the last identity provider and password sign-in is off: switch passwords back on first, or nobody could sign in.",
		"%s 是最后一个身份提供方，且密码登录已关闭：请先重新开启密码登录，否则将无人能够登录。")
	msgSSOPasswordsOffNoProvider = msg.New("tenants.sso_passwords_off_no_provider",
		"Passwords can be switched off only once an identity provider is set up and enabled; otherwise nobody could sign in.",
		"须先配置并启用身份提供方，才能关闭密码登录，否则将无人能够登录。")
	msgSSOPasswordsOff = msg.New("tenants.sso_passwords_off",
		"Password sign-in is switched off for %s: use the single sign-on button of your unit.",
		"%s 已关闭密码登录，请使用本单位的统一身份认证（单点登录）按钮登录。")
	msgSSOClaimValue = msg.New("tenants.sso_claim_value",
		"The value of %s is empty, too long or holds control characters.",
		"%s 的值为空、过长或含有控制字符。")
	msgSSOLinkNotMember = msg.New("tenants.sso_link_not_member",
		"Only a member of this unit (an operator, for the operator's providers) can be linked.",
		"只能关联本单位的成员（运营方身份提供方只能关联运营人员）。")
	msgSSONoLink = msg.New("tenants.sso_no_link",
		"No account is linked to %s.",
		"没有账号关联到 %s。")
	msgSSOApproveRoles = msg.New("tenants.sso_approve_roles",
		"Choose at least one role to approve the account with.",
		"批准账号时请至少选择一个角色。")
	msgSSONoRequest = msg.New("tenants.sso_no_request",
		"There is no waiting account %v.",
		"没有待批准的账号 %v。")
	msgSSONoFlow = msg.New("tenants.sso_no_flow",
		"This sign-in was not started here, was already used or has expired (after 10 minutes). Start again from the login page.",
		"此次登录不是从本平台发起的、已使用过或已过期（10 分钟）。请回到登录页重新登录。")
	msgSSOTenantClosed = msg.New("tenants.sso_tenant_closed",
		"%s cannot be signed in to now.",
		"%s 目前无法登录。")
	msgSSONotOperator = msg.New("tenants.sso_not_operator",
		"The identity provider vouched for someone who is not staff of the operating company here.",
		"身份提供方认证的用户不是本平台运营方的工作人员。")
	msgSSOUnknown = msg.New("tenants.sso_unknown",
		"You signed in at the identity provider, but %s has no account for you. Ask your unit's administrator to add you.",
		"您已在身份提供方登录，但%s没有您的账号。请联系本单位管理员为您开通。")
	msgSSOPending = msg.New("tenants.sso_pending",
		"Your account at %s is waiting for an administrator's approval; you can sign in once it is approved.",
		"您在%s的账号正在等待管理员批准，批准后即可登录。")
	msgSSORequested = msg.New("tenants.sso_requested",
		"Your account at %s was requested and waits for an administrator's approval; you can sign in once it is approved.",
		"已为您向%s申请账号，正在等待管理员批准，批准后即可登录。")
	msgSSONoSession = msg.New("tenants.sso_no_session",
		"This session was not opened through single sign-on.",
		"此会话不是通过单点登录建立的。")
)
