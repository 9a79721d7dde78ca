package evaluation

// Object is what an evaluation ranks: regions (street, community, unit grid), departments and the
// four posts of the case loop (GB/T 30428.4).
type Object string

// The objects.
const (
	Streets     Object = "streets"
	Communities Object = "communities"
	Grids       Object = "grids"
	Departments Object = "departments"
	Inspectors  Object = "inspectors"
	Acceptors   Object = "acceptors"
	ShiftLeads  Object = "shift_leads"
	Dispatchers Object = "dispatchers"
	// Counties are a prefecture's units, compared by their totals (the region indicators).
	Counties Object = "counties"
)

// Objects lists every object of a county's evaluation, in the order the pages show them.
var Objects = []Object{Streets, Communities, Grids, Departments, Inspectors, Acceptors, ShiftLeads, Dispatchers}

// Indicator is one component of an object's score: a rate Num/Den of two of the object's counts,
// or (Relative) the object's count Num against the largest among its peers. Lower is better
// when Inverse: the score counts 1 − rate (返工率, 延期率, 漏报率 …).
type Indicator struct {
	ID       string
	Num, Den string
	Inverse  bool
	Relative bool
}

// Definition is what an object counts and scores: its counts (docs/evaluation.md says what each
// counts) and its indicators with their default weights (percent, summing to 100).
type Definition struct {
	Object     Object
	Counts     []string
	Indicators []Indicator
	Weights    map[string]float64
}

// regionDef is shared by the three region levels: the cases filed (立案) in the period in the
// region, and what became of them by the period's end.
func regionDef(o Object) Definition {
	return Definition{Object: o,
		Counts: []string{"filed", "closed", "closed_on_time", "inspector_reported"},
		Indicators: []Indicator{
			{ID: "close_rate", Num: "closed", Den: "filed"},                 // 结案率
			{ID: "on_time_close_rate", Num: "closed_on_time", Den: "filed"}, // 按期结案率
			{ID: "inspector_report_rate", Num: "inspector_reported", Den: "filed"},
		},
		Weights: map[string]float64{"close_rate": 40, "on_time_close_rate": 40, "inspector_report_rate": 20},
	}
}

// countiesDef is a prefecture's counties': the region indicators and the prefecture's scores of
// their answers to its supervision tasks (监督检查, platform/guidance), their average out of 100 as
// supervision_points ÷ supervision_max (100 a scored answer). Its default weight is 0, so a
// scheme brings it into the composite score only when it weighs it; a county given no task in the
// period has no value and is scored on the rest.
func countiesDef() Definition {
	d := regionDef(Counties)
	d.Indicators = append(d.Indicators, Indicator{ID: "supervision_score", Num: "supervision_points", Den: "supervision_max"})
	d.Weights["supervision_score"] = 0
	return d
}

// Definitions are every object's, with the default weights of DOMAIN.md (GB/T 30428.4 as real
// systems apply it; a tenant's scheme may change the weights from a date).
var Definitions = map[Object]Definition{
	Streets:     regionDef(Streets),
	Communities: regionDef(Communities),
	Grids:       regionDef(Grids),
	Counties:    countiesDef(),
	Departments: {Object: Departments,
		Counts: []string{"dispatched", "returned", "due", "handled", "handled_on_time", "reworks", "extensions", "overdue_pending"},
		Indicators: []Indicator{
			{ID: "handle_rate", Num: "handled", Den: "due"},                                 // 处置率
			{ID: "on_time_handle_rate", Num: "handled_on_time", Den: "due"},                 // 按期处置率
			{ID: "rework_rate", Num: "reworks", Den: "handled", Inverse: true},              // 返工率
			{ID: "overdue_pending_rate", Num: "overdue_pending", Den: "due", Inverse: true}, // 超期待处置率
			{ID: "extension_rate", Num: "extensions", Den: "due", Inverse: true},            // 延期率
		},
		Weights: map[string]float64{"handle_rate": 30, "on_time_handle_rate": 40, "rework_rate": 10, "overdue_pending_rate": 10, "extension_rate": 10},
	},
	Inspectors: {Object: Inspectors,
		Counts: []string{"reports", "valid_reports", "verifies", "verifies_on_time", "checks", "checks_on_time", "filed_in_area", "missed"},
		Indicators: []Indicator{
			{ID: "valid_report_rate", Num: "valid_reports", Den: "reports"},       // 有效上报率
			{ID: "on_time_verify_rate", Num: "verifies_on_time", Den: "verifies"}, // 按时核实率
			{ID: "on_time_check_rate", Num: "checks_on_time", Den: "checks"},      // 按时核查率
			{ID: "miss_rate", Num: "missed", Den: "filed_in_area", Inverse: true}, // 漏报率
		},
		Weights: map[string]float64{"valid_report_rate": 40, "on_time_verify_rate": 20, "on_time_check_rate": 20, "miss_rate": 20},
	},
	Acceptors: {Object: Acceptors,
		Counts: []string{"accepted", "verify_sends", "verify_sends_on_time", "check_sends", "check_sends_on_time"},
		Indicators: []Indicator{
			{ID: "accepted_score", Num: "accepted", Relative: true},                            // 受理数
			{ID: "on_time_verify_send_rate", Num: "verify_sends_on_time", Den: "verify_sends"}, // 按时核实派遣率
			{ID: "on_time_check_send_rate", Num: "check_sends_on_time", Den: "check_sends"},    // 按时核查派遣率
		},
		Weights: map[string]float64{"accepted_score": 25, "on_time_verify_send_rate": 40, "on_time_check_send_rate": 35},
	},
	ShiftLeads: {Object: ShiftLeads,
		Counts: []string{"filed", "filed_on_time", "filed_accurate", "closed", "closed_on_time"},
		Indicators: []Indicator{
			{ID: "on_time_file_rate", Num: "filed_on_time", Den: "filed"},    // 按时立案率
			{ID: "accurate_file_rate", Num: "filed_accurate", Den: "filed"},  // 准确立案率
			{ID: "on_time_close_rate", Num: "closed_on_time", Den: "closed"}, // 按时结案率
		},
		Weights: map[string]float64{"on_time_file_rate": 25, "accurate_file_rate": 40, "on_time_close_rate": 35},
	},
	Dispatchers: {Object: Dispatchers,
		Counts: []string{"dispatched", "dispatched_on_time", "dispatched_accurate"},
		Indicators: []Indicator{
			{ID: "dispatched_score", Num: "dispatched", Relative: true},                   // 派遣数
			{ID: "on_time_dispatch_rate", Num: "dispatched_on_time", Den: "dispatched"},   // 按时派遣率
			{ID: "accurate_dispatch_rate", Num: "dispatched_accurate", Den: "dispatched"}, // 准确派遣率
		},
		Weights: map[string]float64{"dispatched_score": 20, "on_time_dispatch_rate": 40, "accurate_dispatch_rate": 40},
	},
}
