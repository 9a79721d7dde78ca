package evaluation

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// Cases is what the big screen reads of the case loop (cases.Service).
type Cases interface {
	CountIndicators(ctx context.Context, p cases.Period) (*cases.Indicators, error)
	FindCases(ctx context.Context, f cases.Filter) (*cases.Page, error)
}

// The big screen's live stream: how often it looks for a change, how long one stream lasts
// (the browser's EventSource then reconnects by itself), and the heartbeat that keeps proxies
// from closing an idle stream.
const (
	livePoll      = time.Second
	liveLifetime  = 5 * time.Minute
	liveHeartbeat = 2 * time.Second
	liveRecent    = 12
	liveTop       = 8
)

// Named is a name with its figure, a bar of the screen's rankings.
type Named struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// LiveCase is a case of the screen's recent list and map.
type LiveCase struct {
	Number string    `json:"number"`
	State  string    `json:"state"`
	Class  string    `json:"class"`
	At     time.Time `json:"at"`
	Lon    float64   `json:"lon"`
	Lat    float64   `json:"lat"`
}

// Live is what the command centre's big screen (大屏) shows: today's counters, the month's totals,
// the last 30 days reported per day, the month's ranking (departments of a county, counties of a
// prefecture) and the newest cases. Newest is the change token: the screen updates when it moves.
type Live struct {
	At            time.Time      `json:"at"`
	ReportedToday int            `json:"reported_today"`
	ClosedToday   int            `json:"closed_today"`
	OpenNow       int            `json:"open_now"`
	OverdueNow    int            `json:"overdue_now"`
	Month         Summary        `json:"month"`
	Series        map[string]int `json:"series"`
	Ranking       []Named        `json:"ranking"`
	Grids         []Named        `json:"grids"`
	Recent        []LiveCase     `json:"recent"`
	Newest        time.Time      `json:"newest"`
}

// Newest is the time of the newest event of the tenant in ctx's history (the zero time when
// there is none): what the screen watches for a change.
func (s *Service) Newest(ctx context.Context) (time.Time, error) {
	var newest time.Time
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewRaw("SELECT COALESCE(max(at), ?) FROM case_events", time.Unix(0, 0).UTC()).Scan(ctx, &newest)
	})
	return newest, err
}

// units are the scopes the screen of sc shows: sc itself for a county, the counties p reads for a
// prefecture.
func (h *handlers) units(ctx context.Context, sc *tenants.Scope, p *tenants.Principal) ([]*tenants.Scope, error) {
	if sc.Tenant.Kind != tenants.Prefecture {
		return []*tenants.Scope{sc}, nil
	}
	return h.k.Store.ReadableUnder(ctx, p, sc.Tenant)
}

// newest is the newest event among scopes (a screen's units).
func (h *handlers) newest(ctx context.Context, scopes []*tenants.Scope) (time.Time, error) {
	var newest time.Time
	for _, usc := range scopes {
		if usc.Tenant.Status != tenants.StatusActive && usc.Tenant.Status != tenants.StatusSuspended {
			continue
		}
		t, err := h.s.Newest(tenants.WithScope(ctx, usc))
		if err != nil {
			return time.Time{}, err
		}
		if t.After(newest) {
			newest = t
		}
	}
	return newest, nil
}

// live reads the screen's figures for sc's tenant (a county), or for its units (a prefecture),
// as p sees them.
func (h *handlers) live(ctx context.Context, sc *tenants.Scope, p *tenants.Principal) (*Live, error) {
	now := h.k.Now()
	n := now.In(clock.China)
	month := Month(n.Year(), n.Month())
	out := &Live{At: now, Series: map[string]int{}, Ranking: []Named{}, Grids: []Named{}, Recent: []LiveCase{}}
	scopes, err := h.units(ctx, sc, p)
	if err != nil {
		return nil, err
	}
	if sc.Tenant.Kind == tenants.Prefecture {
		units := scopes
		cmp, err := h.s.CompareUnits(ctx, units, month, func(context.Context, *tenants.Scope) error { return nil })
		if err != nil {
			return nil, err
		}
		out.Month = cmp.Totals
		for _, u := range cmp.Units {
			if u.Score != nil && len(out.Ranking) < liveTop {
				out.Ranking = append(out.Ranking, Named{Name: u.Tenant.NameZH, Value: *u.Score})
			}
		}
	}
	for _, usc := range scopes {
		if usc.Tenant.Status != tenants.StatusActive && usc.Tenant.Status != tenants.StatusSuspended {
			continue
		}
		uctx := tenants.WithScope(ctx, usc)
		day, err := h.cases.CountIndicators(uctx, cases.Period{From: clock.StartOfDay(now), To: now.Add(time.Second), Bucket: cases.ByDay})
		if err != nil {
			return nil, err
		}
		out.ReportedToday += day.Reported
		out.ClosedToday += day.Closed
		out.OpenNow += day.OpenNow
		out.OverdueNow += day.OverdueNow
		days, err := h.cases.CountIndicators(uctx, cases.Period{From: clock.StartOfDay(now).AddDate(0, 0, -29), To: now.Add(time.Second), Bucket: cases.ByDay})
		if err != nil {
			return nil, err
		}
		for k, v := range days.Series {
			out.Series[k] += v
		}
		if t, err := h.s.Newest(uctx); err == nil && t.After(out.Newest) {
			out.Newest = t
		}
		if sc.Tenant.Kind != tenants.Prefecture {
			f, err := h.s.Evaluate(uctx, month)
			if err != nil {
				return nil, err
			}
			out.Month = summary(f)
			for _, r := range f.Rankings[Departments].Rows {
				if r.Score != nil && len(out.Ranking) < liveTop {
					out.Ranking = append(out.Ranking, Named{Name: r.Name, Value: *r.Score})
				}
			}
			for _, r := range f.Rankings[Grids].Rows {
				if r.Score != nil && len(out.Grids) < liveTop {
					out.Grids = append(out.Grids, Named{Name: r.Name, Value: *r.Score})
				}
			}
		}
		page, err := h.cases.FindCases(uctx, cases.Filter{Limit: liveRecent})
		if err != nil {
			return nil, err
		}
		for _, cs := range page.Cases {
			out.Recent = append(out.Recent, LiveCase{Number: cs.Number, State: string(cs.State), Class: string(cs.Kind) + "/" + cs.ClassCode, At: cs.CreatedAt, Lon: cs.Lon, Lat: cs.Lat})
		}
	}
	// The newest first, across units.
	sort.SliceStable(out.Recent, func(i, j int) bool { return out.Recent[i].At.After(out.Recent[j].At) })
	if len(out.Recent) > liveRecent {
		out.Recent = out.Recent[:liveRecent]
	}
	return out, nil
}

// screenPage is the big screen: full screen at 1920×1080, updated by the live stream.
func (h *handlers) screenPage(c *fiber.Ctx) error {
	l, err := h.live(c.UserContext(), module.Scope(c), module.Principal(c))
	if err != nil {
		return err
	}
	lang, states := h.k.Pages.Lang(c), map[string]string{}
	for _, st := range append(cases.OpenStates(), cases.Closed, cases.Voided) {
		states[string(st)] = label(lang, "cases.state."+string(st))
	}
	return h.k.Pages.Render(c, "evaluation/screen", fiber.Map{"Base": base(c), "Live": l, "States": states,
		"Stream": base(c) + "/evaluation/live", "Prefecture": module.Scope(c).Tenant.Kind == tenants.Prefecture})
}

// liveFeed is GET /evaluation/live: the screen's figures as JSON, or — when the client asks for
// text/event-stream, as the browser's EventSource does — a stream of server-sent events: the
// figures at once and again within a second of every change to the history, for a few minutes
// (the browser reconnects by itself).
func (h *handlers) liveFeed(c *fiber.Ctx) error {
	sc, p := module.Scope(c), module.Principal(c)
	if !strings.Contains(c.Get(fiber.HeaderAccept), "text/event-stream") {
		l, err := h.live(c.UserContext(), sc, p)
		if err != nil {
			return err
		}
		return c.JSON(l)
	}
	// The stream outlives the handler: it keeps the scope and the principal, not the request
	// (fiber reuses it) nor its context.
	ctx := context.WithoutCancel(c.UserContext())
	read := func() (*Live, error) { return h.live(ctx, sc, p) }
	first, err := read()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		send := func(l *Live) bool {
			b, err := json.Marshal(l)
			if err != nil {
				return false
			}
			fmt.Fprintf(w, "retry: 1000\ndata: %s\n\n", b)
			return w.Flush() == nil
		}
		if !send(first) {
			return
		}
		// The units are read once a stream (a county added meanwhile shows at the reconnection),
		// not once a poll.
		scopes, err := h.units(ctx, sc, p)
		if err != nil {
			return
		}
		last, beat := first.Newest, time.Now()
		deadline := time.Now().Add(liveLifetime)
		for time.Now().Before(deadline) {
			time.Sleep(livePoll)
			newest, err := h.newest(ctx, scopes)
			if err != nil {
				return
			}
			if newest.Equal(last) {
				if time.Since(beat) > liveHeartbeat {
					beat = time.Now()
					if _, err := w.WriteString(": heartbeat\n\n"); err != nil || w.Flush() != nil {
						return
					}
				}
				continue
			}
			l, err := read()
			if err != nil {
				return
			}
			last, beat = newest, time.Now()
			if !send(l) {
				return
			}
		}
	})
	return nil
}
