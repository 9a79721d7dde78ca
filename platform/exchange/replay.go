package exchange

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// What a replay may queue again.
const (
	ReplayCases      = "cases"      // the case events of a time or event range
	ReplayGrids      = "grids"      // every grid as it stands
	ReplayComponents = "components" // every component as it stands
	ReplayIndicators = "indicators" // the indicators of the months of the time range that have ended
)

// ReplayKinds are the kinds a replay names.
var ReplayKinds = []string{ReplayCases, ReplayGrids, ReplayComponents, ReplayIndicators}

// ReplayInput says what to send again: the case events of a time range (From, To: dates in
// China time, To included, or RFC 3339 times, To excluded) or of an event range (FromEvent,
// ToEvent: event ids, both included), and which kinds (ReplayKinds; cases when none).
type ReplayInput struct {
	From      string   `json:"from,omitempty"`
	To        string   `json:"to,omitempty"`
	FromEvent string   `json:"from_event,omitempty"`
	ToEvent   string   `json:"to_event,omitempty"`
	Kinds     []string `json:"kinds,omitempty"`
}

// ReplayResult says how many items of each kind were queued (an item already waiting is not
// queued twice).
type ReplayResult struct {
	Queued map[string]int64 `json:"queued"`
}

// parseWhen reads a replay bound: a date (China time; as the end of a range, the end of that
// day) or an RFC 3339 time.
func parseWhen(field, v string, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if t, err := time.ParseInLocation(time.DateOnly, v, clock.China); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, errs.Field(field, msgWhen, textutil.Truncate(v, 40))
}

func checkEventID(field, v string) error {
	if u, err := uuid.Parse(v); err != nil || u.String() != v {
		return errs.Field(field, msgEventID, textutil.Truncate(v, 40))
	}
	return nil
}

// Replay queues again, for the destination code, what in says (tenant admin; audited
// "exchange.replay"). Items go with the keys they always had, so a receiver that has them
// already answers duplicate; a case's replayed events keep its order.
func (s *Service) Replay(ctx context.Context, code string, in ReplayInput) (*ReplayResult, error) {
	kinds := in.Kinds
	if len(kinds) == 0 {
		kinds = []string{ReplayCases}
	}
	for _, k := range kinds {
		if !slices.Contains(ReplayKinds, k) {
			return nil, errs.Field("kinds", msgReplayKind, textutil.Truncate(k, 20))
		}
	}
	byTime := in.From != "" || in.To != ""
	byEvent := in.FromEvent != "" || in.ToEvent != ""
	var from, to time.Time
	switch {
	case byTime && byEvent:
		return nil, errs.Field("from", msgReplayOneRange)
	case byTime:
		var err error
		if from, err = parseWhen("from", in.From, false); err != nil {
			return nil, err
		}
		if to, err = parseWhen("to", in.To, true); err != nil {
			return nil, err
		}
		if !from.Before(to) {
			return nil, errs.Field("to", msgReplayOrder)
		}
	case byEvent:
		if err := checkEventID("from_event", in.FromEvent); err != nil {
			return nil, err
		}
		if err := checkEventID("to_event", in.ToEvent); err != nil {
			return nil, err
		}
		if in.FromEvent > in.ToEvent {
			return nil, errs.Field("to_event", msgReplayOrder)
		}
	}
	if !byTime && !byEvent && (slices.Contains(kinds, ReplayCases) || slices.Contains(kinds, ReplayIndicators)) {
		return nil, errs.Field("from", msgReplayRange)
	}
	if byEvent && slices.Contains(kinds, ReplayIndicators) {
		return nil, errs.Field("kinds", msgReplayIndicatorsTime)
	}
	now := s.now()
	out := &ReplayResult{Queued: map[string]int64{}}
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		d, err := findDestination(ctx, db, code)
		if err != nil {
			return err
		}
		const insert = "INSERT INTO exchange_outbox (destination_id, kind, subject, seq, ref, next_attempt_at, created_at) "
		for _, k := range kinds {
			var q *bun.RawQuery
			switch k {
			case ReplayCases:
				// An event still owed (or dead) is not queued twice.
				sel := "SELECT ?, 'case_event', 'case:' || e.case_id, e.version, e.id, 0, e.at FROM case_events e " +
					"WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = ? AND o.subject = 'case:' || e.case_id " +
					"AND o.seq = e.version) AND "
				if byTime {
					q = db.NewRaw(insert+sel+"e.at >= ? AND e.at < ?", d.ID, d.ID, from.UTC(), to.UTC())
				} else {
					q = db.NewRaw(insert+sel+"e.id >= ? AND e.id <= ?", d.ID, d.ID, in.FromEvent, in.ToEvent)
				}
			case ReplayGrids, ReplayComponents:
				kind := map[string]string{ReplayGrids: KindGrid, ReplayComponents: KindComponent}[k]
				// A thing still waiting unclaimed is not queued twice.
				q = db.NewRaw(insert+"SELECT ?, ?, ? || t.code, 0, t.code, 0, t.updated_at FROM "+k+
					" t WHERE NOT EXISTS (SELECT 1 FROM exchange_outbox o WHERE o.destination_id = ? AND o.subject = ? || t.code"+
					" AND o.attempts = 0 AND o.status = 'pending')", d.ID, kind, kind+":", d.ID, kind+":")
			case ReplayIndicators:
				var months []string
				last := clockMonth(now).AddDate(0, -1, 0)
				for m := clockMonth(from); m.Before(to) && !m.After(last); m = m.AddDate(0, 1, 0) {
					months = append(months, m.Format("2006-01"))
				}
				n, err := queueMonths(ctx, db, d.ID, months, now)
				if err != nil {
					return err
				}
				out.Queued[k] = n
				continue
			}
			res, err := q.Exec(ctx)
			if err != nil {
				return dbx.Translate(err)
			}
			out.Queued[k], _ = res.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	detail := map[string]any{"code": code, "kinds": kinds, "queued": out.Queued}
	if byTime {
		detail["from"], detail["to"] = from.UTC(), to.UTC()
	}
	if byEvent {
		detail["from_event"], detail["to_event"] = in.FromEvent, in.ToEvent
	}
	if err := s.gate.AuditTenant(ctx, "exchange.replay", code, detail); err != nil {
		return nil, err
	}
	return out, nil
}

// clockMonth is the first day of t's month in China time.
func clockMonth(t time.Time) time.Time { return clock.StartOfMonth(t.In(clock.China)) }
