package exchange

import "github.com/cityops/cityops/internal/msg"

// The API pull's messages (see internal/msg): English, then Chinese.
var (
	msgPullKind = msg.New("exchange.pull_kind",
		"pull.kind must be json_pages or open311, not %q.",
		"pull.kind 须为 json_pages 或 open311，而不是 %q。")
	msgPullURL = msg.New("exchange.pull_url",
		"%q is not an http or https address.",
		"%q 不是 http 或 https 地址。")
	msgPullURLUser = msg.New("exchange.pull_url_user",
		"pull.base_url must not hold a user name or password: the credential goes to the secret store (cityops credentials set <tenant> vendor_<vendor>) and pull.auth says where it is sent.",
		"pull.base_url 不能包含用户名或密码：凭据存放在密钥库（cityops credentials set <单位> vendor_<厂商>），由 pull.auth 指定发送位置。")
	msgPullTooManyParams = msg.New("exchange.pull_too_many_params",
		"pull.query holds more than %d parameters.",
		"pull.query 的参数超过 %d 个。")
	msgPullNotOpen311 = msg.New("exchange.pull_not_open311",
		"%s does not apply to an Open311 pull.",
		"%s 不适用于 Open311 拉取。")
	msgPullOpen311Only = msg.New("exchange.pull_open311_only",
		"%s applies to Open311 pulls only.",
		"%s 仅适用于 Open311 拉取。")
	msgPullStatusValue = msg.New("exchange.pull_status_value",
		"pull.status must be open, closed or left out.",
		"pull.status 须为 open、closed 或不填。")
	msgPullOpen311Paging = msg.New("exchange.pull_open311_paging",
		"An Open311 pull pages by page number only (pull.paging.by: page).",
		"Open311 拉取只能按页码分页（pull.paging.by: page）。")
	msgPullParamTwice = msg.New("exchange.pull_param_twice",
		"The parameter %q is set by the pull itself (%s).",
		"参数 %q 已由拉取本身设置（%s）。")
	msgPullNextLink = msg.New("exchange.pull_next_link",
		"Paging by next_link follows the address at pull.paging.next: leave out param, size_param and start.",
		"按 next_link 分页时沿 pull.paging.next 给出的地址翻页：请去掉 param、size_param 和 start。")
	msgPullPaging = msg.New("exchange.pull_paging",
		"pull.paging.by must be page, offset, cursor or next_link, not %q.",
		"pull.paging.by 须为 page、offset、cursor 或 next_link，而不是 %q。")
	msgPullNextOnly = msg.New("exchange.pull_next_only",
		"pull.paging.next is for paging by cursor or next_link, not by %s.",
		"pull.paging.next 仅用于按 cursor 或 next_link 分页，不用于按 %s 分页。")
	msgPullAuth = msg.New("exchange.pull_auth",
		"pull.auth names either the header the credential goes in (header, with an optional prefix such as \"Bearer \") or the query parameter (query), one of them.",
		"pull.auth 须指定凭据所在的请求头（header，可加前缀如 \"Bearer \"）或查询参数（query），二者选一。")
	msgPullParamName = msg.New("exchange.pull_param_name",
		"%s must be a parameter name of 1 to 100 characters without spaces or control characters.",
		"%s 须为 1 至 100 个字符的参数名，不含空格或控制字符。")
	msgPullPath = msg.New("exchange.pull_path",
		"%s must be a JSON path: member names joined by dots, for example data.list.",
		"%s 须为 JSON 路径：以点连接的成员名，例如 data.list。")
	msgPullWindowOrder = msg.New("exchange.pull_window_order",
		"to must be after from.",
		"to 必须晚于 from。")
	msgPullTime = msg.New("exchange.pull_time",
		"%s: give a date (2024-03-01, China time) or a time in RFC 3339 (2024-03-01T08:00:00+08:00), not %q.",
		"%s：请填写日期（2024-03-01，北京时间）或 RFC 3339 时间（2024-03-01T08:00:00+08:00），而不是 %q。")
	msgPullNone = msg.New("exchange.pull_none",
		"The mapping of %s has no pull section: add one (kind, base_url, …) to pull from the vendor's API.",
		"%s 的映射没有 pull 配置：请添加（kind、base_url 等）后再从厂商接口拉取。")
	msgPullNoWindow = msg.New("exchange.pull_no_window",
		"This vendor's pull takes no time window: name its parameters in the mapping's pull.window (from, to).",
		"该厂商的拉取不支持时间范围：请在映射的 pull.window 中指定参数名（from、to）。")
	msgPullNoCredential = msg.New("exchange.pull_no_credential",
		"The pull of %s needs the credential %s: set it with cityops credentials set %s %s.",
		"%s 的拉取需要凭据 %s：请用 cityops credentials set %s %s 设置。")
	msgPullCredentialStore = msg.New("exchange.pull_credential_store",
		"The vendor's credential cannot be read now; try again later.",
		"暂时无法读取厂商凭据，请稍后重试。")
	msgPullLoop = msg.New("exchange.pull_loop",
		"Page %d of %s: the vendor's server gave a next page it gave before (%s).",
		"%[2]s 的第 %[1]d 页：厂商服务器给出的下一页此前已给过（%[3]s）。")
	msgPullRedirect = msg.New("exchange.pull_redirect",
		"Page %d of %s: the vendor's server sent the pull to another host (%s); a pull stays on the host of base_url.",
		"%[2]s 的第 %[1]d 页：厂商服务器将请求转到了其他主机（%[3]s）；拉取只访问 base_url 所在的主机。")
	msgPullRedirects = msg.New("exchange.pull_redirects",
		"Page %d of %s: the vendor's server redirected more than 5 times.",
		"%[2]s 的第 %[1]d 页：厂商服务器重定向超过 5 次。")
	msgPullNoArray = msg.New("exchange.pull_no_array",
		"Page %d of %s holds no array of records at %s: %s",
		"%[2]s 的第 %[1]d 页在 %[3]s 处没有记录数组：%[4]s")
	msgPullNotObject = msg.New("exchange.pull_not_object",
		"Page %d of %s: record %d is not a JSON object.",
		"%[2]s 的第 %[1]d 页：第 %[3]d 条记录不是 JSON 对象。")
	msgPullTooManyPages = msg.New("exchange.pull_too_many_pages",
		"The pull is over %d pages: pull a shorter window (from, to) or raise pull.max_pages.",
		"拉取超过 %d 页：请缩短时间范围（from、to）或调大 pull.max_pages。")
	msgPullTooLarge = msg.New("exchange.pull_too_large",
		"The pull is over %d MiB at page %d: pull a shorter window (from, to) or raise pull.max_mib.",
		"拉取在第 %[2]d 页超过 %[1]d MiB：请缩短时间范围（from、to）或调大 pull.max_mib。")
	msgPullPageTooLarge = msg.New("exchange.pull_page_too_large",
		"Page %d of %s is over %d MiB: ask for smaller pages (pull.paging.size).",
		"%[2]s 的第 %[1]d 页超过 %[3]d MiB：请调小每页条数（pull.paging.size）。")
	msgPullStatus = msg.New("exchange.pull_status",
		"Page %d of %s: the vendor's server answered %s: %s (%d attempts).",
		"%[2]s 的第 %[1]d 页：厂商服务器应答 %[3]s：%[4]s（尝试 %[5]d 次）。")
	msgPullNoAnswer = msg.New("exchange.pull_no_answer",
		"Page %d of %s: the vendor's server did not answer: %s (%d attempts).",
		"%[2]s 的第 %[1]d 页：厂商服务器无应答：%[3]s（尝试 %[4]d 次）。")
	msgPullRefused = msg.New("exchange.pull_refused",
		"Page %d of %s: the vendor's server refused the request (%s: %s): check the credential %s and the mapping's pull.auth.",
		"%[2]s 的第 %[1]d 页：厂商服务器拒绝了请求（%[3]s：%[4]s）：请检查凭据 %[5]s 和映射的 pull.auth。")
	msgPullNotJSON = msg.New("exchange.pull_not_json",
		"Page %d of %s is not JSON (%s, %s, starting %q).",
		"%[2]s 的第 %[1]d 页不是 JSON（%[3]s，%[4]s，开头为 %[5]q）。")
)
