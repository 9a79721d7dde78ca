package exchange

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// KindUpward is an item a prefecture reports up to the provincial platform (platform/guidance,
// table guidance_upward): a policy (政策法规), industry news (行业动态), team building (队伍建设)
// or typical experience (典型经验, 经验交流).
const KindUpward = "upward"

// UpwardV1 is an upward report as profile v1 sends it.
type UpwardV1 struct {
	ID          string    `json:"id"`
	Stream      string    `json:"stream"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Enqueue queues an item of kind (KindUpward) naming ref for every destination of profile
// cityops-province/1 in db, the caller's tenant transaction: the item goes up exactly when the
// change that makes it commits. It returns how many destinations it was queued for.
func Enqueue(ctx context.Context, db bun.IDB, kind, ref string, at time.Time) (int, error) {
	var ids []string
	if err := db.NewSelect().Table("exchange_destinations").Column("id").Where("profile = ?", ProfileV1).OrderExpr("id").Scan(ctx, &ids); err != nil {
		return 0, err
	}
	for _, id := range ids {
		e := &struct {
			bun.BaseModel `bun:"table:exchange_outbox"`
			Destination   string    `bun:"destination_id"`
			Kind          string    `bun:"kind"`
			Subject       string    `bun:"subject"`
			Seq           int64     `bun:"seq"`
			Ref           string    `bun:"ref"`
			Next          int64     `bun:"next_attempt_at"`
			CreatedAt     time.Time `bun:"created_at"`
		}{Destination: id, Kind: kind, Subject: kind + ":" + ref, Ref: ref, Next: at.UnixMilli(), CreatedAt: at.UTC()}
		if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// upwardItems says the upward reports of entries ix in profile v1's words.
func upwardItems(ctx context.Context, db bun.IDB, t *tenants.Tenant, entries []Entry, ix []int, out []Item) error {
	ids := make([]string, len(ix))
	for j, i := range ix {
		ids[j] = entries[i].Ref
	}
	var rows []struct {
		ID          string `bun:"id"`
		Stream      string `bun:"stream"`
		Title       string `bun:"title"`
		Body        string `bun:"body"`
		SubmittedAt int64  `bun:"submitted_at"`
	}
	if err := db.NewSelect().Table("guidance_upward").Column("id", "stream", "title", "body", "submitted_at").
		Where("id IN (?)", bun.List(ids)).Scan(ctx, &rows); err != nil {
		return err
	}
	for _, i := range ix {
		for _, r := range rows {
			if r.ID != entries[i].Ref {
				continue
			}
			b, err := json.Marshal(UpwardV1{ID: r.ID, Stream: r.Stream, Title: r.Title, Body: r.Body, SubmittedAt: time.UnixMilli(r.SubmittedAt).UTC()})
			if err != nil {
				return err
			}
			out[i].Key, out[i].Data = wireKey(t, "up:"+r.ID), b
		}
		if out[i].Data == nil {
			out[i].Skip = true
		}
	}
	return nil
}
