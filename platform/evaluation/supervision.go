package evaluation

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Supervision scores (监督检查): the scores a prefecture gave its counties' answers to its
// supervision tasks (platform/guidance, table guidance_reviews of the prefecture's own tenant) in
// a period, per county. They are printed beside the weighted indicators of the comparison and
// in the prefecture's bulletin, and are the counties' indicator supervision_score (the average
// out of 100), which counts in the composite score with the weight the prefecture's scheme gives
// it (0 by default); a county that was given no task has none and is scored on the rest
// (docs/evaluation.md, docs/guidance.md).

// SupervisionRow is a county's scored answers in the period: how many, and their average (0–100;
// absent with none).
type SupervisionRow struct {
	Scored  int64    `json:"scored"`
	Sum     int64    `json:"sum"`
	Average *float64 `json:"average"`
}

// supervisionScores reads the prefecture's scores given in [from, to), by county id, in the
// prefecture of ctx.
func (s *Service) supervisionScores(ctx context.Context, from, to time.Time) (map[string]*SupervisionRow, error) {
	out := map[string]*SupervisionRow{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []struct {
			County string `bun:"county_id"`
			N      int64  `bun:"n"`
			Sum    int64  `bun:"total"`
		}
		if err := db.NewRaw(`SELECT county_id, COUNT(*) AS n, COALESCE(SUM(score), 0) AS total FROM guidance_reviews
WHERE verdict = 'scored' AND reviewed_at >= ? AND reviewed_at < ? GROUP BY county_id`, from.UnixMilli(), to.UnixMilli()).Scan(ctx, &rows); err != nil {
			return fmt.Errorf("evaluation: supervision scores: %w", err)
		}
		for _, r := range rows {
			avg := math.Round(float64(r.Sum)/float64(r.N)*10) / 10
			out[r.County] = &SupervisionRow{Scored: r.N, Sum: r.Sum, Average: &avg}
		}
		return nil
	})
	return out, err
}

// The names of the supervision scores' figures on the pages and in the bulletin.
var _ = msg.Define(
	msg.Text{ID: "evaluation.page.supervision", ZH: "监督检查评分与公众满意度", EN: "Supervision scores and citizen satisfaction"},
	msg.Text{ID: "evaluation.page.supervision.hint", ZH: "本周期内州（市）对各县（市）监督检查反馈的评分（0–100），及公众回访评价。监督检查平均分按评价方案中“监督检查得分”的权重计入综合得分（默认权重为 0）；公众满意度并列展示，不计入综合得分。", EN: "The prefecture's scores (0–100) of the counties' answers to its supervision tasks in the period, and the citizens' survey answers. The supervision average counts in the composite score with the weight the scheme gives \"supervision score\" (0 by default); satisfaction is shown beside it, not part of the composite score."},
	msg.Text{ID: "evaluation.indicator.supervision_score", ZH: "监督检查得分", EN: "Supervision score"},
	msg.Text{ID: "evaluation.count.supervision_scored", ZH: "评分任务数", EN: "Tasks scored"},
	msg.Text{ID: "evaluation.indicator.supervision_average", ZH: "监督检查平均分", EN: "Supervision average score"},
)

// supervisionTable is the bulletin's table of each county's supervision scores and citizen
// satisfaction (a prefecture's bulletin); nil when no county has either.
func supervisionTable(cmp *Comparison) *docTable {
	t := &docTable{Title: zh("evaluation.page.supervision"), Head: []string{zh("evaluation.page.name"), zh("evaluation.count.supervision_scored"),
		zh("evaluation.indicator.supervision_average"), zh("evaluation.count.surveyed"), zh("evaluation.indicator.satisfaction_average"),
		zh("evaluation.indicator.citizen_solved_rate") + " (%)"}}
	for _, u := range cmp.Units {
		if u.Supervision == nil && u.Satisfaction == nil {
			continue
		}
		line := []any{u.Name, int64(0), "—", int64(0), "—", "—"}
		if u.Supervision != nil {
			line[1], line[2] = u.Supervision.Scored, rounded(u.Supervision.Average, 1)
		}
		if u.Satisfaction != nil {
			line[3], line[4], line[5] = u.Satisfaction.Surveyed, rounded(u.Satisfaction.Average, 1), percent(u.Satisfaction.SolvedRate)
		}
		t.Rows = append(t.Rows, line)
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

// supervisionCell is a county's line of the supervision scores on the comparison page.
type supervisionCell struct{ Key, Name, Scored, Average string }
