package exchange

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// ProfileHotline names the profile of the 12345 hotline's flow-back: the outcome of each work
// order (accepted 受理, returned 退回 with the reason, completed 办结 with the reply to the
// citizen), one item per outcome, in the case's order. docs/exchange.md describes it.
const ProfileHotline = "cityops-12345/1"

// KindOutcome is the kind of a hotline outcome item.
const KindOutcome = "hotline_outcome"

// The outcomes of a work order.
const (
	OutcomeAccepted  = "accepted"
	OutcomeReturned  = "returned"
	OutcomeCompleted = "completed"
)

// OutcomeV1 is the data of a hotline outcome item.
type OutcomeV1 struct {
	WorkOrder  string    `json:"work_order"`
	Outcome    string    `json:"outcome"`
	CaseID     string    `json:"case_id"`
	CaseNumber string    `json:"case_number"`
	AdminCode  string    `json:"admin_code"`
	Reason     string    `json:"reason,omitempty"`
	Reply      string    `json:"reply,omitempty"`
	At         time.Time `json:"at"`
}

// NewHotlineProfile returns profile cityops-12345/1 reading through gate. It carries only the
// events that are outcomes of a hotline work order, and skips every other entry (other cases'
// events, grids, components, indicators), which are then done without being sent. The outbox's
// triggers queue a hotline destination nothing else (tenant migration exchange.0006, which lists
// the same actions), so that skipping is for rows queued before it.
func NewHotlineProfile(gate Gate) Profile { return &hotlineProfile{gate: gate} }

type hotlineProfile struct{ gate Gate }

type outcomeRow struct {
	EventID   string    `bun:"event_id"`
	Action    string    `bun:"action"`
	ToState   string    `bun:"to_state"`
	Reason    string    `bun:"reason"`
	At        time.Time `bun:"at"`
	CaseID    string    `bun:"case_id"`
	Number    string    `bun:"number"`
	WorkOrder string    `bun:"work_order"`
	// Feedback is the handler's last feedback before the event (the reply when closing says
	// nothing of its own); AcceptedBefore counts the case's earlier arrivals in accepted.
	Feedback       *string `bun:"feedback"`
	AcceptedBefore int     `bun:"accepted_before"`
}

func (p *hotlineProfile) Items(ctx context.Context, entries []Entry) ([]Item, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	t := sc.Tenant
	out := make([]Item, len(entries))
	var ids []string
	for i, e := range entries {
		out[i] = Item{Kind: KindOutcome, Subject: e.Subject, Seq: e.Seq, Skip: true}
		if e.Kind == KindCaseEvent {
			ids = append(ids, e.Ref)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []outcomeRow
	if err := p.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw(`SELECT e.id AS event_id, e.action, e.to_state, e.reason, e.at, c.id AS case_id, c.number,
			o.number AS work_order,
			(SELECT f.reason FROM case_events f WHERE f.case_id = e.case_id AND f.action = 'feedback' AND f.version < e.version
				ORDER BY f.version DESC LIMIT 1) AS feedback,
			(SELECT count(*) FROM case_events p WHERE p.case_id = e.case_id AND p.to_state = 'accepted' AND p.version < e.version) AS accepted_before
			FROM case_events e JOIN cases c ON c.id = e.case_id JOIN hotline_orders o ON o.case_id = e.case_id
			WHERE e.id IN (?) AND c.source = 'hotline' AND e.action IN ('accept', 'verify', 'void', 'close')`,
			bun.List(ids)).Scan(ctx, &rows)
	}); err != nil {
		return nil, err
	}
	by := make(map[string]*outcomeRow, len(rows))
	for k := range rows {
		by[rows[k].EventID] = &rows[k]
	}
	for i, e := range entries {
		r := by[e.Ref]
		if e.Kind != KindCaseEvent || r == nil {
			continue
		}
		o := OutcomeV1{WorkOrder: r.WorkOrder, CaseID: r.CaseID, CaseNumber: r.Number, AdminCode: t.AdminCode, At: r.At.UTC()}
		switch {
		case r.ToState == "accepted" && r.AcceptedBefore == 0: // accepted at once, or once verified
			o.Outcome = OutcomeAccepted
		case r.Action == "void":
			o.Outcome, o.Reason = OutcomeReturned, r.Reason
		case r.Action == "close":
			o.Outcome, o.Reply = OutcomeCompleted, r.Reason
			if o.Reply == "" && r.Feedback != nil {
				o.Reply = *r.Feedback
			}
		default:
			continue // accepted again after another verification: said already
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		out[i].Key, out[i].Data, out[i].Skip = wireKey(t, "hl:"+r.EventID), b, false
	}
	return out, nil
}
