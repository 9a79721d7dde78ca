package cases

import (
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/internal/textutil"
)

// SurveyFilters are the values of Filter.Survey: the cases whose citizens' survey (回访, table
// case_surveys, written by platform/open311) was answered, answered "solved", or "not solved".
var SurveyFilters = []string{"answered", "solved", "not_solved"}

var msgSurveyFilterNotOne = msg.New("cases.survey_filter_not_one",
	"survey is answered, solved or not_solved, not %q.",
	"survey 须为 answered、solved 或 not_solved，而不是 %q。")

// surveyCondition is the condition on case_surveys of a Filter.Survey value (fixed SQL text).
func surveyCondition(v string) (string, error) {
	switch v {
	case "answered":
		return "", nil
	case "solved":
		return " WHERE solved", nil
	case "not_solved":
		return " WHERE NOT solved", nil
	}
	return "", errs.Field("survey", msgSurveyFilterNotOne, textutil.Truncate(v, 20))
}
