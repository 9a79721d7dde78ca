package monitoring

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/platform/module"
	"github.com/cityops/cityops/tenants"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// The live view's stream (GET /monitoring/live as text/event-stream).
//
// Every stream polls the tenant's database itself, so that any replica serves any client and no
// in-process bus is needed: each poll is one read transaction per unit that reads the devices
// seen, changed or gone offline since the last poll and the alarms changed since then (by the
// alarms' updated_at index). The devices are not indexed by last_seen on purpose: the ingest
// updates last_seen with every batch, and an index on it would make each of those updates a
// non-HOT update in PostgreSQL; a county's device table (10,000 rows at most) is scanned in a
// millisecond or two.
const (
	livePoll      = time.Second
	liveHeartbeat = 2 * time.Second
	// liveLifetime ends a stream before the server's write timeout (60 s, app/server.go) would
	// break it mid-write: fasthttp sets a response's write deadline once, when it starts writing.
	// The browser's EventSource reconnects after the retry delay, with the last event's id.
	liveLifetime = 50 * time.Second
	// liveOverlap is how far back of its cursor each poll reads again: a change committed late
	// (a slow transaction, another replica's clock) is not missed; a stream never sends what it
	// sent already.
	liveOverlap = 5 * time.Second
	// liveMaxBack is the oldest cursor a stream continues from; an older one gets a snapshot.
	liveMaxBack = 15 * time.Minute
	// liveMaxDevices and liveMaxAlarms bound what one unit contributes to a snapshot;
	// liveMaxChanged bounds the alarms one poll reads (more changed at once: the stream sends a
	// fresh snapshot instead).
	liveMaxDevices = 20_000
	liveMaxAlarms  = 2000
	liveMaxChanged = 2000
)

// LiveUnit is a tenant whose devices a live view shows: the tenant itself, or for a prefecture
// also each county it reads.
type LiveUnit struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// LiveDevice is a device as the live view shows it. Level is what the map colours: the severity
// of its most severe open alarm (critical, warning, info) or else its status (online, offline).
type LiveDevice struct {
	Unit     string     `json:"unit"`
	Code     string     `json:"code"`
	Name     string     `json:"name"`
	Type     string     `json:"type"`
	Lon      float64    `json:"lon"`
	Lat      float64    `json:"lat"`
	Status   string     `json:"status"`
	Alarm    string     `json:"alarm"`
	Level    string     `json:"level"`
	LastSeen *time.Time `json:"last_seen"`
	Link     string     `json:"link"`
}

// Key is the device's key in a live view: unit and code (codes repeat across counties).
func (d *LiveDevice) Key() string { return d.Unit + "/" + d.Code }

// LiveAlarm is an alarm as the live view shows it, with its unit and links to its device and
// its case.
type LiveAlarm struct {
	*Alarm
	Unit       string `json:"unit"`
	Key        string `json:"key"`
	Open       bool   `json:"open"`
	DeviceLink string `json:"device_link"`
	CaseLink   string `json:"case_link,omitempty"`
}

// LiveCounts are the live view's figures: devices by status (online, offline, alarm: with an
// open alarm) and by type, open alarms by severity.
type LiveCounts struct {
	Status   map[string]int `json:"status"`
	Types    map[string]int `json:"types"`
	Severity map[string]int `json:"severity"`
}

// LiveState is the live view's snapshot: every device of its units with its level, the open
// alarms newest raised first (at most 2,000 of a unit), and the counts (of every open alarm,
// listed or not). Cursor continues a stream from it.
type LiveState struct {
	At      time.Time     `json:"at"`
	Cursor  string        `json:"cursor"`
	Units   []LiveUnit    `json:"units"`
	Devices []*LiveDevice `json:"devices"`
	Alarms  []*LiveAlarm  `json:"alarms"`
	Counts  LiveCounts    `json:"counts"`
}

// severityRank orders the severities; 0 is none.
func severityRank(s string) int { return slices.Index(Severities, s) + 1 }

// liveRead is what one poll of one unit read.
type liveRead struct {
	devices []*Device
	alarm   map[int64]string // device id: severity of its most severe open alarm
	alarms  []*Alarm
	// open counts the open alarms by severity (a snapshot: all of them, listed or not).
	open map[string]int
	// full is set when a poll read as many rows as it may: what it did not read is read by a
	// snapshot instead.
	full bool
}

// readLive reads ctx's tenant in one read transaction: with since 0 every device and the open
// alarms; otherwise the devices seen or changed since since (ms, less the overlap), those that
// went offline meanwhile and those whose alarms changed, and the alarms changed since then.
func (s *Service) readLive(ctx context.Context, since int64) (*liveRead, error) {
	out := &liveRead{alarm: map[int64]string{}, open: map[string]int{}}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		st, err := settingsIn(ctx, db)
		if err != nil {
			return err
		}
		now := s.now()
		var ids []int64
		if since == 0 {
			if err := db.NewSelect().Model(&out.devices).Order("code").Limit(liveMaxDevices).Scan(ctx); err != nil {
				return err
			}
			if err := alarmQuery(db, &out.alarms).Where("a.state <> ?", AlarmCleared).OrderExpr("a.raised_at DESC, a.id").Limit(liveMaxAlarms).Scan(ctx); err != nil {
				return err
			}
		} else {
			from := since - liveOverlap.Milliseconds()
			off := int64(st.OfflineMinutes) * time.Minute.Milliseconds()
			if err := alarmQuery(db, &out.alarms).Where("a.updated_at >= ?", from).OrderExpr("a.updated_at, a.id").Limit(liveMaxChanged).Scan(ctx); err != nil {
				return err
			}
			if len(out.alarms) == liveMaxChanged {
				out.full = true
				return nil
			}
			q := db.NewSelect().Model(&out.devices).Order("code").Limit(liveMaxDevices).WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
				q = q.Where("last_seen >= ?", from).
					WhereOr("updated_at >= ?", time.UnixMilli(from).UTC()).
					WhereOr("last_seen >= ? AND last_seen < ?", from-off, now.UnixMilli()-off)
				for _, a := range out.alarms {
					ids = append(ids, a.DeviceID)
				}
				if len(ids) > 0 {
					q = q.WhereOr("id IN (?)", bun.List(ids))
				}
				return q
			})
			if err := q.Scan(ctx); err != nil {
				return err
			}
			if len(out.devices) == liveMaxDevices {
				out.full = true
				return nil
			}
		}
		ids = ids[:0]
		for _, d := range out.devices {
			s.fill(d, st)
			ids = append(ids, d.ID)
		}
		// The severity of each device's most severe open alarm: all at once for a snapshot, of
		// the devices read otherwise.
		type open struct {
			DeviceID int64  `bun:"device_id"`
			Severity string `bun:"severity"`
		}
		var opens []open
		q := func() *bun.SelectQuery {
			return db.NewSelect().TableExpr("monitoring_alarms").Column("device_id", "severity").Where("state <> ?", AlarmCleared)
		}
		if since == 0 {
			if err := q().Scan(ctx, &opens); err != nil {
				return err
			}
		}
		for i := 0; since != 0 && i < len(ids); i += 1000 {
			var part []open
			if err := q().Where("device_id IN (?)", bun.List(ids[i:min(i+1000, len(ids))])).Scan(ctx, &part); err != nil {
				return err
			}
			opens = append(opens, part...)
		}
		for _, o := range opens {
			out.open[o.Severity]++
			if severityRank(o.Severity) > severityRank(out.alarm[o.DeviceID]) {
				out.alarm[o.DeviceID] = o.Severity
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range out.alarms {
		a.fill()
	}
	return out, nil
}

// liveDevice is d of unit as the live view shows it.
func liveDevice(unit string, d *Device, alarm string) *LiveDevice {
	level := d.Status
	if alarm != "" {
		level = alarm
	}
	return &LiveDevice{Unit: unit, Code: d.Code, Name: d.Name, Type: d.Type, Lon: d.Lon, Lat: d.Lat, Status: d.Status,
		Alarm: alarm, Level: level, LastSeen: d.LastSeen, Link: "/t/" + unit + "/monitoring/devices/" + d.Code}
}

// liveAlarm is a of unit as the live view shows it.
func liveAlarm(unit string, a *Alarm) *LiveAlarm {
	la := &LiveAlarm{Alarm: a, Unit: unit, Key: unit + "/" + a.ID, Open: a.Open(), DeviceLink: "/t/" + unit + "/monitoring/devices/" + a.DeviceCode}
	if a.CaseID != nil && *a.CaseID != "" {
		la.CaseLink = "/t/" + unit + "/cases/" + url.PathEscape(*a.CaseID)
	}
	return la
}

// liveUnits are the units a live view of sc shows: sc's tenant, and for a prefecture the units
// below it that p reads (read-only scopes), each with the plan to show monitoring; those neither
// active nor suspended are left out.
func (h *handlers) liveUnits(ctx context.Context, sc *tenants.Scope, p *tenants.Principal) ([]*tenants.Scope, error) {
	out := []*tenants.Scope{sc}
	if sc.Tenant.Kind != tenants.Prefecture {
		return out, nil
	}
	under, err := h.k.Store.ReadableUnder(ctx, p, sc.Tenant)
	if err != nil {
		return nil, err
	}
	for _, u := range under {
		if u.Tenant.Status != tenants.StatusActive && u.Tenant.Status != tenants.StatusSuspended {
			continue
		}
		if h.k.Entitled != nil {
			if on, err := h.k.Entitled(ctx, u.Tenant, Entitlement); err != nil {
				return nil, err
			} else if !on {
				continue
			}
		}
		out = append(out, u)
	}
	return out, nil
}

// auditUnits records the read of each unit below the prefecture (units[1:]) as the tenant scope
// middleware records a prefecture viewer's read of a county: tenant.cross_read with the path.
func (h *handlers) auditUnits(ctx context.Context, units []*tenants.Scope, path string) error {
	for _, u := range units[1:] {
		if err := h.k.Store.AuditCrossRead(ctx, u, fiber.MethodGet, path); err != nil {
			return err
		}
	}
	return nil
}

// cursor is a stream's position: the time of a poll, in ms.
func cursor(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// parseCursor reads a cursor from the Last-Event-ID header or the since parameter ("" and
// absent: none, 0).
func parseCursor(field, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.Field(field, msgLiveCursor, field)
	}
	return n, nil
}

// snapshot reads the live view of units.
func (h *handlers) snapshot(ctx context.Context, units []*tenants.Scope) (*LiveState, error) {
	now := h.s.now()
	out := &LiveState{At: now.UTC(), Cursor: cursor(now), Units: []LiveUnit{}, Devices: []*LiveDevice{}, Alarms: []*LiveAlarm{},
		Counts: LiveCounts{Status: map[string]int{"online": 0, "offline": 0, "alarm": 0}, Types: map[string]int{}, Severity: map[string]int{}}}
	for _, u := range units {
		out.Units = append(out.Units, LiveUnit{Slug: u.Tenant.Slug, Name: u.Tenant.NameZH})
		r, err := h.s.readLive(tenants.WithScope(ctx, u), 0)
		if err != nil {
			return nil, err
		}
		for _, d := range r.devices {
			ld := liveDevice(u.Tenant.Slug, d, r.alarm[d.ID])
			out.Devices = append(out.Devices, ld)
			out.Counts.Types[d.Type]++
			if ld.Alarm != "" {
				out.Counts.Status["alarm"]++
			} else {
				out.Counts.Status[d.Status]++
			}
		}
		for _, a := range r.alarms {
			out.Alarms = append(out.Alarms, liveAlarm(u.Tenant.Slug, a))
		}
		for sev, n := range r.open {
			out.Counts.Severity[sev] += n
		}
	}
	slices.SortStableFunc(out.Alarms, func(a, b *LiveAlarm) int { return cmp.Compare(b.RaisedAtMS, a.RaisedAtMS) })
	return out, nil
}

// liveStream is one stream's memory of what it sent, so that the overlapping polls send each
// change once.
type liveStream struct {
	devices map[string]string // key: signature
	alarms  map[string]string // key: signature
}

func newLiveStream() *liveStream {
	return &liveStream{devices: map[string]string{}, alarms: map[string]string{}}
}

func deviceSig(d *LiveDevice) string {
	seen := ""
	if d.LastSeen != nil {
		seen = d.LastSeen.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(d.Level, "|", d.Status, "|", seen, "|", d.Name, "|", d.Lon, "|", d.Lat)
}

// alarmSig is what the live view shows of an alarm: a hit on an open alarm (its count, its last
// time and value) is no change worth an event.
func alarmSig(a *Alarm) string {
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return fmt.Sprint(a.State, "|", a.Severity, "|", a.CaseStatus, "|", str(a.CaseID), "|", str(a.AckBy), "|", a.RaisedAtMS)
}

// remember records what st sends.
func (st *liveStream) remember(s *LiveState) {
	for _, d := range s.Devices {
		st.devices[d.Key()] = deviceSig(d)
	}
	for _, a := range s.Alarms {
		st.alarms[a.Key] = alarmSig(a.Alarm)
	}
}

// changes polls units for what changed since since (ms) that st has not sent; full when more
// changed than a poll reads (the caller sends a snapshot then).
func (h *handlers) changes(ctx context.Context, st *liveStream, units []*tenants.Scope, since int64) (devs []*LiveDevice, alarms []*LiveAlarm, full bool, err error) {
	for _, u := range units {
		r, err := h.s.readLive(tenants.WithScope(ctx, u), since)
		if err != nil {
			return nil, nil, false, err
		}
		if r.full {
			return nil, nil, true, nil
		}
		slug := u.Tenant.Slug
		for _, d := range r.devices {
			ld := liveDevice(slug, d, r.alarm[d.ID])
			if sig := deviceSig(ld); st.devices[ld.Key()] != sig {
				st.devices[ld.Key()] = sig
				devs = append(devs, ld)
			}
		}
		for _, a := range r.alarms {
			la := liveAlarm(slug, a)
			if sig := alarmSig(a); st.alarms[la.Key] != sig {
				st.alarms[la.Key] = sig
				alarms = append(alarms, la)
			}
		}
	}
	return devs, alarms, false, nil
}

// liveFeed is GET /monitoring/live: the live view's snapshot as JSON, or — when the client asks
// for text/event-stream, as the browser's EventSource does — a stream of server-sent events:
//
//	event: snapshot   the LiveState (when the stream starts with no cursor, or one too old, and
//	                  when more changed at once than a poll reads)
//	event: device     a LiveDevice whose level, status, last seen, name or point changed
//	event: alarm      a LiveAlarm that changed (open false: it was cleared)
//	event: heartbeat  {"at", "cursor"} every 2 s without a change
//
// Every event's id is a cursor; a client reconnecting with Last-Event-ID (or ?since=<cursor>)
// gets the changes since then instead of a snapshot. The stream polls every second and ends
// after 50 s (the client reconnects), or at once when the server shuts down.
func (h *handlers) liveFeed(c *fiber.Ctx) error {
	sc, p := module.Scope(c), module.Principal(c)
	since, err := parseCursor("since", c.Query("since"))
	if err != nil {
		return err
	}
	if id := c.Get("Last-Event-ID"); id != "" {
		if since, err = parseCursor("Last-Event-ID", id); err != nil {
			return err
		}
	}
	stream := strings.Contains(c.Get(fiber.HeaderAccept), "text/event-stream")
	// The stream outlives the handler: it keeps the scopes (built from the database, not from the
	// request's buffers) and a context that is not the request's.
	ctx := context.WithoutCancel(c.UserContext())
	units, err := h.liveUnits(ctx, sc, p)
	if err != nil {
		return err
	}
	// A reconnection (Last-Event-ID) continues the read its stream's start recorded.
	if c.Get("Last-Event-ID") == "" {
		if err := h.auditUnits(ctx, units, strings.Clone(c.Path())); err != nil {
			return err
		}
	}
	if !stream {
		s, err := h.snapshot(ctx, units)
		if err != nil {
			return err
		}
		return c.JSON(s)
	}
	st := newLiveStream()
	now := h.s.now()
	var first *LiveState
	var devs []*LiveDevice
	var alarms []*LiveAlarm
	full := since == 0 || now.UnixMilli()-since > liveMaxBack.Milliseconds() || since > now.UnixMilli()+liveOverlap.Milliseconds()
	if !full {
		if devs, alarms, full, err = h.changes(ctx, st, units, since); err != nil {
			return err
		}
	}
	if full {
		if first, err = h.snapshot(ctx, units); err != nil {
			return err
		}
		st.remember(first)
	}
	// Closed when the server shuts down: a stream then ends at once instead of holding the
	// shutdown's grace (the client reconnects to another replica, or to this one restarted).
	stopping := c.Context().Done()
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		fmt.Fprintf(w, "retry: 1000\n\n")
		if first != nil {
			writeEvent(w, "snapshot", first.Cursor, first)
		}
		sendChanges(w, cursor(now), devs, alarms)
		if w.Flush() != nil {
			return
		}
		last, beat := now, time.Now()
		deadline := time.Now().Add(liveLifetime)
		for time.Now().Before(deadline) {
			select {
			case <-stopping:
				return
			case <-time.After(livePoll):
			}
			at := h.s.now()
			devs, alarms, full, err := h.changes(ctx, st, units, last.UnixMilli())
			if err == nil && full {
				var snap *LiveState
				if snap, err = h.snapshot(ctx, units); err == nil {
					st = newLiveStream()
					st.remember(snap)
					writeEvent(w, "snapshot", snap.Cursor, snap)
					at = snap.At
				}
			}
			if err != nil {
				h.k.Log.Error("monitoring: live stream", "tenant", sc.Tenant.Slug, "err", err)
				return
			}
			last = at
			switch {
			case full: // the snapshot is written
			case len(devs)+len(alarms) == 0:
				if time.Since(beat) < liveHeartbeat {
					continue
				}
				writeEvent(w, "heartbeat", cursor(at), map[string]any{"at": at.UTC(), "cursor": cursor(at)})
			default:
				sendChanges(w, cursor(at), devs, alarms)
			}
			beat = time.Now()
			if w.Flush() != nil {
				return // the client went away
			}
		}
	})
	return nil
}

// sendChanges writes one event per changed alarm, then per changed device (whose level the
// alarms may have changed); the last carries the cursor, so a
// client that reconnects after the middle of a batch reads it again.
func sendChanges(w *bufio.Writer, cur string, devs []*LiveDevice, alarms []*LiveAlarm) {
	n := len(devs) + len(alarms)
	i := 0
	id := func() string {
		i++
		if i == n {
			return cur
		}
		return ""
	}
	for _, a := range alarms {
		writeEvent(w, "alarm", id(), a)
	}
	for _, d := range devs {
		writeEvent(w, "device", id(), d)
	}
}

// writeEvent writes one server-sent event of kind with data as JSON (one line: encoding/json
// escapes newlines in strings).
func writeEvent(w *bufio.Writer, kind, id string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	if id != "" {
		fmt.Fprintf(w, "id: %s\n", id)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", kind, b)
}
