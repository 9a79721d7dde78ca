package guidance

import (
	"context"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// Outbox queues an item for the data exchange's destinations inside the caller's tenant
// transaction (platform/exchange's Enqueue): kind "upward", ref the report's id.
type Outbox func(ctx context.Context, db bun.IDB, kind, ref string, at time.Time) (int, error)

// UpwardStreams are what a prefecture reports up to the province (the seed's streams): policies
// and regulations (政策法规), industry news (行业动态), team building (队伍建设) and typical
// experience (典型经验, 经验交流).
var UpwardStreams = []string{"policy", "news", "team", "experience"}

// OriginProvince marks a notice the prefecture relays from the provincial platform.
const OriginProvince = "province"

var (
	msgBadStream = msg.New("guidance.bad_stream", "The stream is policy, news, team or experience.", "类别须为 policy（政策法规）、news（行业动态）、team（队伍建设）或 experience（典型经验）。")
	msgBadOrigin = msg.New("guidance.bad_origin", "The origin is empty (the prefecture's own) or province (relayed from the provincial platform).", "来源须为空（本级发布）或 province（转发省平台）。")
)

type upwardRow struct {
	bun.BaseModel `bun:"table:guidance_upward"`
	ID            string `bun:"id,pk"`
	Stream        string `bun:"stream"`
	Title         string `bun:"title"`
	Body          string `bun:"body"`
	SubmittedBy   string `bun:"submitted_by"`
	SubmittedMS   int64  `bun:"submitted_at"`
	Queued        int    `bun:"queued"`
}

// Upward is a report the prefecture sent up: Queued is how many of the data exchange's
// destinations it was queued for (0: none is configured; the exchange's pages show delivery).
type Upward struct {
	ID          string    `json:"id"`
	Stream      string    `json:"stream"`
	Title       string    `json:"title"`
	Body        string    `json:"body"`
	SubmittedBy string    `json:"submitted_by"`
	SubmittedAt time.Time `json:"submitted_at"`
	Queued      int       `json:"queued"`
}

func (r *upwardRow) upward() Upward {
	return Upward{ID: r.ID, Stream: r.Stream, Title: r.Title, Body: r.Body, SubmittedBy: r.SubmittedBy, SubmittedAt: fromMS(r.SubmittedMS), Queued: r.Queued}
}

// UpwardInput is a report to send up.
type UpwardInput struct {
	Stream string `json:"stream"`
	Title  string `json:"title"`
	Body   string `json:"body"`
}

// ReportUp records a report of the prefecture of ctx for the province and, in the same
// transaction, queues it for every destination of the data exchange that speaks the provincial
// profile: it goes up when the exchange delivers, with its retries and delivery log.
func (s *Service) ReportUp(ctx context.Context, in UpwardInput) (*Upward, error) {
	if _, err := asPrefecture(ctx, true); err != nil {
		return nil, err
	}
	if !slices.Contains(UpwardStreams, in.Stream) {
		return nil, errs.Field("stream", msgBadStream)
	}
	now := s.now().UTC()
	r := &upwardRow{ID: newID(), Stream: in.Stream, SubmittedBy: actor(ctx), SubmittedMS: ms(now)}
	var err error
	if r.Title, err = cleanText("title", "title", in.Title, 200); err != nil {
		return nil, err
	}
	if r.Body, err = optionalText("body", "body", in.Body, 20000); err != nil {
		return nil, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if s.outbox != nil {
			n, err := s.outbox(ctx, db, "upward", r.ID, now)
			if err != nil {
				return err
			}
			r.Queued = n
		}
		_, err := db.NewInsert().Model(r).Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	u := r.upward()
	return &u, s.gate.AuditTenant(ctx, "guidance.upward", r.ID, map[string]any{"stream": r.Stream, "title": r.Title, "queued": r.Queued})
}

// UpwardReports lists the prefecture's reports to the province, newest first.
func (s *Service) UpwardReports(ctx context.Context) ([]Upward, error) {
	if _, err := asPrefecture(ctx, false); err != nil {
		return nil, err
	}
	out := []Upward{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []upwardRow
		if err := db.NewSelect().Model(&rows).OrderExpr("submitted_at DESC, id").Limit(500).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.upward())
		}
		return nil
	})
	return out, err
}
