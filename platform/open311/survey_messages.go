package open311

import "github.com/cityops/cityops/internal/msg"

// The survey's user-visible messages (see internal/msg): English, then Chinese.
var (
	msgSurveyBadCharacters = msg.New("open311.survey_bad_characters",
		"%s contains characters that cannot be stored (a NUL byte or invalid UTF-8).",
		"%s 含有无法保存的字符（NUL 字节或无效的 UTF-8）。")
	msgSurveyTooLong = msg.New("open311.survey_too_long",
		"%s may be at most %d characters.",
		"%s 不能超过 %d 个字符。")
	msgSurveySolvedYesNo = msg.New("open311.survey_solved_yes_no",
		"Say whether the problem was solved: solved is yes or no.",
		"请说明问题是否已解决：solved 须为 yes 或 no。")
	msgSurveyRatingOneToFive = msg.New("open311.survey_rating_one_to_five",
		"The satisfaction rating is a whole number from 1 (very dissatisfied) to 5 (very satisfied).",
		"满意度须为 1（很不满意）到 5（很满意）之间的整数。")
	msgSurveyGiveNumberToken = msg.New("open311.survey_give_number_token",
		"Give the report's number and the token you were given when you reported it.",
		"请提供上报编号，以及上报时获得的凭证码（token）。")
	msgSurveyNoReportNumberToken = msg.New("open311.survey_no_report_number_token",
		"No report has this number and token.",
		"没有与该编号和凭证码相符的上报。")
	msgSurveyNotClosedYet = msg.New("open311.survey_not_closed_yet",
		"Report %s is not closed yet; you can answer the survey once it is.",
		"上报 %s 尚未结案；结案后即可参加回访。")
	msgSurveyAlreadyAnswered = msg.New("open311.survey_already_answered",
		"The survey of report %s has been answered already; it can be answered once.",
		"上报 %s 的回访已经作答；每件上报只能回访一次。")
	msgSurveyUnknownChannel = msg.New("open311.survey_unknown_channel",
		"Unknown survey channel %q.",
		"未知的回访渠道 %q。")
)
