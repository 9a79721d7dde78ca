package web

import "github.com/cityops/cityops/internal/msg"

// Text of the citizens' survey (回访) on the public pages (app/console/public_survey.go) and on
// the staff's case page.
var _ = msg.Define(
	msg.Text{ID: "public.survey.title", ZH: "回访：问题解决了吗？", EN: "Survey: was it solved?"},
	msg.Text{ID: "public.survey.intro", ZH: "您反映的问题已办结。请告诉我们问题是否真正解决、您是否满意，您的评价会计入对承办单位的考核。", EN: "Your report has been closed. Tell us whether the problem is really solved and how satisfied you are; your answer counts in the evaluation of those who handled it."},
	msg.Text{ID: "public.survey.token", ZH: "凭证码", EN: "Token"},
	msg.Text{ID: "public.survey.token.hint", ZH: "上报成功时页面上显示的凭证码（Open311 凭证）；只有持有凭证码的人才能参加回访。", EN: "The token shown when you reported (the Open311 token); only whoever holds it can answer."},
	msg.Text{ID: "public.survey.solved", ZH: "问题解决了吗？", EN: "Was the problem solved?"},
	msg.Text{ID: "public.survey.yes", ZH: "已解决", EN: "Yes, solved"},
	msg.Text{ID: "public.survey.no", ZH: "未解决", EN: "No, not solved"},
	msg.Text{ID: "public.survey.rating", ZH: "满意度", EN: "How satisfied are you?"},
	msg.Text{ID: "public.survey.rating.5", ZH: "非常满意", EN: "Very satisfied"},
	msg.Text{ID: "public.survey.rating.4", ZH: "满意", EN: "Satisfied"},
	msg.Text{ID: "public.survey.rating.3", ZH: "一般", EN: "Neither"},
	msg.Text{ID: "public.survey.rating.2", ZH: "不满意", EN: "Dissatisfied"},
	msg.Text{ID: "public.survey.rating.1", ZH: "非常不满意", EN: "Very dissatisfied"},
	msg.Text{ID: "public.survey.comment", ZH: "意见和建议（可选）", EN: "Comment (optional)"},
	msg.Text{ID: "public.survey.comment.hint", ZH: "最多 500 字。请不要填写姓名、电话等个人信息。", EN: "At most 500 characters. Please leave out your name, phone and other personal data."},
	msg.Text{ID: "public.survey.submit", ZH: "提交回访", EN: "Send my answer"},
	msg.Text{ID: "public.survey.answered", ZH: "感谢您的回访评价。", EN: "Thank you for your answer."},
	msg.Text{ID: "public.survey.answered_at", ZH: "评价时间", EN: "Answered"},
	msg.Text{ID: "public.survey.followup", ZH: "您反映问题未解决，已重新立项上报，新编号：", EN: "You said it is not solved, so it was reported again as number"},
	msg.Text{ID: "public.survey.not_closed", ZH: "该上报尚未办结；办结后即可参加回访。", EN: "This report is not closed yet; you can answer once it is."},
	msg.Text{ID: "public.survey.thanks", ZH: "已收到您的回访评价，感谢您！", EN: "Thank you, we have your answer."},

	msg.Text{ID: "cases.filter.survey", ZH: "公众回访", EN: "Citizen survey"},
	msg.Text{ID: "cases.filter.survey.answered", ZH: "已回访", EN: "Answered"},
	msg.Text{ID: "cases.filter.survey.solved", ZH: "回访：已解决", EN: "Answered: solved"},
	msg.Text{ID: "cases.filter.survey.not_solved", ZH: "回访：未解决", EN: "Answered: not solved"},

	msg.Text{ID: "case.survey.title", ZH: "公众回访", EN: "Citizen survey"},
	msg.Text{ID: "case.survey.comment", ZH: "意见和建议", EN: "Comment"},
	msg.Text{ID: "case.survey.asked", ZH: "回访发起", EN: "Asked"},
	msg.Text{ID: "case.survey.channel", ZH: "回访渠道", EN: "Channel"},
	msg.Text{ID: "case.survey.channel.lookup", ZH: "进度查询页", EN: "Progress page"},
	msg.Text{ID: "case.survey.channel.link", ZH: "回访链接（短信）", EN: "Survey link (SMS)"},
	msg.Text{ID: "case.survey.channel.open311", ZH: "Open311 客户端", EN: "Open311 client"},
	msg.Text{ID: "case.survey.followup", ZH: "因“未解决”重新上报为", EN: "Reported again, as not solved, as"},
	msg.Text{ID: "case.survey.original", ZH: "本案卷由以下案卷的回访（未解决）重新上报：", EN: "Reported again by the survey (not solved) of"},
)
