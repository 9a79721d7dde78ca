package sso

import "github.com/cityops/cityops/internal/msg"

// The package's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgProviderOff = msg.New("sso.provider_off",
		"Sign-in with %s is switched off.",
		"“%s”登录已停用。")
	msgStateMismatch = msg.New("sso.state_mismatch",
		"This answer from the identity provider does not belong to the sign-in started here (state differs). Start again from the login page.",
		"身份提供方的应答与本平台发起的登录不符（state 不一致）。请回到登录页重新登录。")
	msgProviderRefused = msg.New("sso.provider_refused",
		"%s did not sign you in (%s: %s).",
		"%s 未完成登录（%s：%s）。")
	msgNoCode = msg.New("sso.no_code",
		"The identity provider's answer carries no authorization code. Start again from the login page.",
		"身份提供方的应答中没有授权码。请回到登录页重新登录。")
	msgNoSecret = msg.New("sso.no_secret",
		"Sign-in with %s is not fully set up: its client secret (%s) is missing from the secret store. Ask the administrator.",
		"“%s”登录尚未配置完成：密钥库中缺少其客户端密钥（%s）。请联系管理员。")
	msgCodeRefused = msg.New("sso.code_refused",
		"%s did not accept the sign-in code (%s). Start again from the login page.",
		"%s 未接受登录授权码（%s）。请回到登录页重新登录。")
	msgProviderDown = msg.New("sso.provider_down",
		"%s cannot be reached now; try again later.",
		"暂时无法连接 %s，请稍后再试。")
	msgNoIDToken = msg.New("sso.no_id_token",
		"%s answered without an ID token: is the scope openid configured?",
		"%s 的应答中没有 ID 令牌：是否配置了 openid 授权范围？")
	msgTokenIssuer = msg.New("sso.token_issuer",
		"The ID token was not issued by %s as configured (issuer differs).",
		"ID 令牌并非由所配置的 %s 签发（签发者不符）。")
	msgTokenSignature = msg.New("sso.token_signature",
		"The ID token from %s is not valid (signature or format).",
		"来自 %s 的 ID 令牌无效（签名或格式错误）。")
	msgTokenAudience = msg.New("sso.token_audience",
		"The ID token from %s was issued for another application (audience differs).",
		"来自 %s 的 ID 令牌是签发给其他应用的（受众不符）。")
	msgTokenExpired = msg.New("sso.token_expired",
		"The ID token from %s has expired (allowing %s for clock differences). Check the clocks of both servers, then sign in again.",
		"来自 %s 的 ID 令牌已过期（已容许 %s 的时钟误差）。请检查双方服务器时钟后重新登录。")
	msgTokenFuture = msg.New("sso.token_future",
		"The ID token from %s was issued in the future: the clocks differ by more than %s. Check the clocks of both servers.",
		"来自 %s 的 ID 令牌签发时间晚于当前时间：双方时钟误差超过 %s。请检查双方服务器时钟。")
	msgTokenNonce = msg.New("sso.token_nonce",
		"The ID token from %s does not belong to this sign-in (nonce differs). Start again from the login page.",
		"来自 %s 的 ID 令牌不属于本次登录（nonce 不符）。请回到登录页重新登录。")
	msgNoClaim = msg.New("sso.no_claim",
		"%s did not say who you are by %s, which this unit matches staff by. Ask the administrator.",
		"%s 未提供本单位用于匹配人员的 %s。请联系管理员。")
	msgClaimUnverified = msg.New("sso.claim_unverified",
		"%s says your %s is not verified; it cannot identify you.",
		"%s 表示您的 %s 尚未验证，不能用于识别身份。")
	msgDiscovery = msg.New("sso.discovery",
		"The identity provider %s cannot be reached at %s (its discovery document could not be read); try again later.",
		"无法连接身份提供方 %s（%s），读取其发现文档失败，请稍后再试。")
	msgIssuerHTTPS = msg.New("sso.issuer_https",
		"The issuer %q must use https.",
		"签发者地址 %q 必须使用 https。")
	msgSecretInvalid = msg.New("sso.secret_invalid",
		"The client secret is too long or holds a NUL byte.",
		"客户端密钥过长或含有 NUL 字节。")
	msgSecretRequired = msg.New("sso.secret_required",
		"A new identity provider needs its client secret.",
		"新的身份提供方须填写客户端密钥。")
)
