package evaluation

import "github.com/cityops/cityops/internal/msg"

// The names of citizen satisfaction's figures (satisfaction.go) on the evaluation page.
var _ = msg.Define(
	msg.Text{ID: "evaluation.page.satisfaction", ZH: "公众满意度（回访）", EN: "Citizen satisfaction (survey)"},
	msg.Text{ID: "evaluation.page.satisfaction.hint", ZH: "本周期内公众对已办结上报的回访评价；与加权指标并列展示，不计入综合得分。", EN: "The citizens' survey answers given in the period for their closed reports; shown beside the weighted indicators, not part of the composite score."},
	msg.Text{ID: "evaluation.page.satisfaction.unit", ZH: "评价对象", EN: "Unit"},
	msg.Text{ID: "evaluation.count.surveyed", ZH: "回访数", EN: "Surveyed"},
	msg.Text{ID: "evaluation.indicator.satisfaction_average", ZH: "满意度均分（1–5）", EN: "Satisfaction average (1–5)"},
	msg.Text{ID: "evaluation.indicator.citizen_solved_rate", ZH: "群众认可解决率", EN: "Solved by the citizens' word"},
)
