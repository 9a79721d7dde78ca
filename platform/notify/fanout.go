package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// event is one row of notify_events.
type event struct {
	bun.BaseModel `bun:"table:notify_events"`
	Key           string  `bun:"key,pk"`
	Kind          string  `bun:"kind"`
	CaseID        *string `bun:"case_id"`
	Ref           string  `bun:"ref"`
	Detail        string  `bun:"detail"`
	CreatedMS     int64   `bun:"created_at"`
	DoneMS        *int64  `bun:"done_at"`
}

// delivery is one row of notify_deliveries: one event to one recipient by one channel.
type delivery struct {
	bun.BaseModel `bun:"table:notify_deliveries"`
	ID            int64  `bun:"id,pk,autoincrement"`
	EventKey      string `bun:"event_key"`
	Recipient     string `bun:"recipient"`
	Channel       string `bun:"channel"`
	Target        string `bun:"target"`
	Subject       string `bun:"subject"`
	Body          string `bun:"body"`
	Params        string `bun:"params"`
	Status        string `bun:"status"`
	Attempts      int    `bun:"attempts"`
	NextMS        int64  `bun:"next_attempt_at"`
	LeaseMS       int64  `bun:"lease_until"`
	LastError     string `bun:"last_error"`
	SentMS        *int64 `bun:"sent_at"`
	CreatedMS     int64  `bun:"created_at"`
}

// activeStates are the states in which a case is its department's and its clock runs.
var activeStates = []string{"dispatched", "handling", "extension_requested", "return_requested", "suspension_requested"}

// staleAfter is the age past which a case action notifies nobody: an import of past cases'
// history (their dispatches years ago) or an event left over a long outage.
const staleAfter = 24 * time.Hour

// recipient is a person an event notifies.
type recipient struct {
	identity, email, phone string
}

// caseInfo is what a case's notifications say about it.
type caseInfo struct {
	ID, Number, State, Description, Address string
	DepartmentID, DepartmentName            sql.NullString
	DepartmentCode                          sql.NullString
	InspectorID                             sql.NullString
	Deadline                                *time.Time
}

// caseActionKinds are the events a case action records (the trigger on case_events): past
// staleAfter they notify nobody.
var caseActionKinds = []string{KindDispatched, KindRework, KindVerifyTask, KindCheckTask}

// ScanFrom names the modules whose tables Scan reads besides the case loop's: those of the
// tenant's plan (an unentitled module's tables may be empty or stale).
type ScanFrom struct {
	Alarms    bool // monitoring: every alarm raised in the last day
	Imports   bool // exchange: every vendor import run finished in the last day
	Bulletins bool // evaluation: every bulletin published in the last day
}

// Scan adds the events that no case action records: a running case whose deadline is near
// (预警: within the settings' warn_minutes) or past (overdue), once per case and deadline, and
// those of the modules in from. Each event's key is its source row's, so a scan repeated (every
// pass, every replica) adds nothing twice.
func (s *Service) Scan(ctx context.Context, from ScanFrom) error {
	now := s.now()
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		st, err := findSettings(ctx, db)
		if err != nil {
			return err
		}
		type row struct {
			ID       string    `bun:"id"`
			Deadline time.Time `bun:"deadline_at"`
			Overdue  bool      `bun:"overdue"`
		}
		var rows []row
		if err := db.NewSelect().Table("cases").Column("id", "deadline_at", "overdue").
			Where("clock_start IS NOT NULL AND clock_stopped_at IS NULL AND deadline_at IS NOT NULL AND department_id IS NOT NULL").
			Where("state IN (?)", bun.List(activeStates)).
			Where("deadline_at > ? AND deadline_at <= ?", now.Add(-7*24*time.Hour), now.Add(time.Duration(st.WarnMinutes)*time.Minute)).
			Scan(ctx, &rows); err != nil {
			return errorf("scanning deadlines", dbx.Translate(err))
		}
		for _, r := range rows {
			kind := KindWarning
			if r.Overdue || !r.Deadline.After(now) {
				kind = KindOverdue
			}
			id := r.ID
			e := &event{Key: kind + ":" + r.ID + ":" + r.Deadline.UTC().Format(time.RFC3339), Kind: kind, CaseID: &id, Detail: "{}", CreatedMS: now.UnixMilli()}
			if _, err := db.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return errorf("adding an event", dbx.Translate(err))
			}
		}
		if from.Imports {
			if err := s.scanImports(ctx, db, now); err != nil {
				return err
			}
		}
		if from.Bulletins {
			if err := s.scanBulletins(ctx, db, now); err != nil {
				return err
			}
		}
		if !from.Alarms {
			return nil
		}
		type alarm struct {
			ID       string `bun:"id"`
			Message  string `bun:"message"`
			Severity string `bun:"severity"`
			Kind     string `bun:"kind"`
			Raised   int64  `bun:"raised_at"`
		}
		var as []alarm
		if err := db.NewSelect().Table("monitoring_alarms").Column("id", "message", "severity", "kind", "raised_at").
			Where("raised_at >= ?", now.Add(-24*time.Hour).UnixMilli()).Scan(ctx, &as); err != nil {
			return errorf("scanning alarms", dbx.Translate(err))
		}
		for _, a := range as {
			d, _ := json.Marshal(map[string]string{"message": a.Message, "severity": a.Severity, "kind": a.Kind})
			e := &event{Key: "alarm:" + a.ID, Kind: KindAlarm, Ref: a.ID, Detail: string(d), CreatedMS: a.Raised}
			if _, err := db.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
				return errorf("adding an event", dbx.Translate(err))
			}
		}
		return nil
	})
}

// Fanout turns the pending events (at most limit) into inbox rows and deliveries, each event in
// the transaction that marks it done: an event fanned out twice (a crash, a second replica)
// adds nothing, since every row is unique by (event, recipient[, channel]).
func (s *Service) Fanout(ctx context.Context, limit int) (int, error) {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		_, _, err := tenants.Admit(ctx, tenants.Write)
		return 0, err
	}
	// Most passes find nothing: look before reading the members from the control plane.
	var pending int
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		n, err := db.NewSelect().Table("notify_events").Where("done_at IS NULL").Limit(1).Count(ctx)
		pending = int(n)
		return dbx.Translate(err)
	}); err != nil {
		return 0, errorf("pending events", err)
	}
	if pending == 0 {
		return 0, nil
	}
	members, err := s.gate.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return 0, errorf("members", err)
	}
	byID := map[string]*tenants.Member{}
	for _, m := range members {
		byID[m.Identity.ID.String()] = m
	}
	done := 0
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		// Case actions past staleAfter (an import of past cases' history) are done unread, in one
		// statement rather than one by one.
		if _, err := db.NewUpdate().Table("notify_events").Set("done_at = ?", s.now().UnixMilli()).
			Where("done_at IS NULL AND kind IN (?) AND created_at > 0 AND created_at < ?", bun.List(caseActionKinds),
				s.now().Add(-staleAfter).UnixMilli()).Exec(ctx); err != nil {
			return errorf("stale events", dbx.Translate(err))
		}
		var evs []*event
		if err := db.NewSelect().Model(&evs).Where("done_at IS NULL").OrderExpr("created_at, key").Limit(int64(limit)).Scan(ctx); err != nil {
			return errorf("pending events", dbx.Translate(err))
		}
		if len(evs) == 0 {
			return nil
		}
		st, err := findSettings(ctx, db)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if err := s.fanoutEvent(ctx, db, sc.Tenant, st, byID, e); err != nil {
				return err
			}
			if _, err := db.NewUpdate().Table("notify_events").Set("done_at = ?", s.now().UnixMilli()).Where("key = ?", e.Key).Exec(ctx); err != nil {
				return errorf("marking an event", dbx.Translate(err))
			}
			done++
		}
		return nil
	})
	return done, err
}

func (s *Service) fanoutEvent(ctx context.Context, db bun.IDB, t *tenants.Tenant, st *Settings, members map[string]*tenants.Member, e *event) error {
	now := s.now()
	f := Fields{Kind: e.Kind, Title: kinds[e.Kind].In("zh-CN"), Tenant: t.NameZH}
	var rs []recipient
	var group, groupTarget string
	if e.CaseID != nil {
		var c caseInfo
		err := db.NewSelect().TableExpr("cases AS c").Join("LEFT JOIN departments AS d ON d.id = c.department_id").
			ColumnExpr("c.id, c.number, c.state, c.description, c.address, c.department_id, c.inspector_id, c.deadline_at AS deadline").
			ColumnExpr("d.name AS department_name, d.code AS department_code").
			Where("c.id = ?", *e.CaseID).Scan(ctx, &c)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return errorf("the event's case", dbx.Translate(err))
		}
		f.Number, f.Description, f.Address, f.Department = c.Number, c.Description, c.Address, c.DepartmentName.String
		if c.Deadline != nil {
			f.Deadline = c.Deadline.In(chinaTime).Format("2006-01-02 15:04")
		}
		if e.Ref != "" {
			var reason string
			if err := db.NewSelect().Table("case_events").Column("reason").Where("id = ?", e.Ref).Scan(ctx, &reason); err == nil {
				f.Reason = reason
			}
		}
		if slices.Contains(caseActionKinds, e.Kind) && e.CreatedMS > 0 && now.Sub(time.UnixMilli(e.CreatedMS)) > staleAfter {
			return nil
		}
		if e.Kind == KindVerifyTask || e.Kind == KindCheckTask {
			// The task is the case's inspector's (its responsibility grid's), every inspector's
			// when it has none; a case no longer waiting for it notifies nobody.
			if (e.Kind == KindVerifyTask) != (c.State == "verifying") || (e.Kind == KindCheckTask) != (c.State == "checking") {
				return nil
			}
			var err error
			if rs, err = taskInspectors(ctx, db, members, c.InspectorID); err != nil {
				return err
			}
			return s.notifyAll(ctx, db, t, st, e, f, rs, "", "")
		}
		if !c.DepartmentID.Valid || !slices.Contains(activeStates, c.State) {
			return nil
		}
		type staff struct {
			Identity string `bun:"identity_id"`
			Phone    string `bun:"phone"`
		}
		var ss []staff
		if err := db.NewSelect().Table("staff").Column("identity_id", "phone").
			Where("department_id = ? AND active AND identity_id IS NOT NULL", c.DepartmentID.String).OrderExpr("identity_id").Scan(ctx, &ss); err != nil {
			return errorf("the department's staff", dbx.Translate(err))
		}
		for _, x := range ss {
			if m := members[x.Identity]; m != nil {
				rs = append(rs, recipient{identity: x.Identity, email: m.Identity.Email, phone: x.Phone})
			}
		}
		group, groupTarget = "dept:"+c.DepartmentID.String, c.DepartmentCode.String
	} else if e.Kind == KindAlarm {
		var d map[string]string
		_ = json.Unmarshal([]byte(e.Detail), &d)
		f.Description, f.Severity = d["message"], d["severity"]
		if f.Description == "" {
			f.Description = d["kind"]
		}
		phones, err := staffPhones(ctx, db)
		if err != nil {
			return err
		}
		rs = holding(members, phones, tenants.Acceptor, tenants.ShiftLead, tenants.Dispatcher, tenants.TenantAdmin)
		group = "tenant"
	} else if e.Kind == KindImport || e.Kind == KindBulletin {
		var err error
		if rs, err = s.moduleEvent(ctx, db, members, e, &f); err != nil {
			return err
		}
		if e.Kind == KindBulletin {
			group = "tenant"
		}
	} else if isGuidanceKind(e.Kind) {
		guidanceFields(e, &f)
		phones, err := staffPhones(ctx, db)
		if err != nil {
			return err
		}
		rs, group = holding(members, phones, tenants.TenantAdmin, tenants.Leader, tenants.ShiftLead), "tenant"
	}
	return s.notifyAll(ctx, db, t, st, e, f, rs, group, groupTarget)
}

// notifyAll writes e's inbox rows for rs and its deliveries by the channels each chose, and the
// group robot's (group "dept:<id>" or "tenant"; none when empty).
func (s *Service) notifyAll(ctx context.Context, db bun.IDB, t *tenants.Tenant, st *Settings, e *event, f Fields, rs []recipient, group, groupTarget string) error {
	now := s.now()
	title := "【" + f.Title + "】" + f.Number
	if f.Number == "" {
		title = "【" + f.Title + "】"
	}
	body := st.render(e.Kind, f)
	ids := make([]string, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.identity)
	}
	prefs, err := findPreferences(ctx, db, ids)
	if err != nil {
		return err
	}
	var caseID *string
	if e.CaseID != nil {
		id := *e.CaseID
		caseID = &id
	}
	smsParams, _ := json.Marshal(map[string]string{"kind": f.Title, "number": f.Number})
	quietNext := now
	if q, end := st.quiet(now); q {
		quietNext = end
	}
	at := e.CreatedMS
	if at <= 0 || at > now.UnixMilli() {
		at = now.UnixMilli()
	}
	for _, r := range rs {
		n := &Notification{ID: uuid.NewString(), EventKey: e.Key, IdentityID: r.identity, Kind: e.Kind, Title: title, Body: body, CaseID: caseID, CreatedMS: at}
		if _, err := db.NewInsert().Model(n).On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
			return errorf("an inbox row", dbx.Translate(err))
		}
		p := prefs[r.identity]
		if p.wants(e.Kind, ChannelEmail) && !p.Digest && r.email != "" && s.mailConfigured(st) {
			if err := s.addDelivery(ctx, db, e.Key, r.identity, ChannelEmail, r.email, title, body, "{}", now); err != nil {
				return err
			}
		}
		if p.wants(e.Kind, ChannelSMS) && r.phone != "" && s.sms != nil && st.SMSSignName != "" && st.SMSTemplate != "" {
			if err := s.addDelivery(ctx, db, e.Key, r.identity, ChannelSMS, r.phone, title, body, string(smsParams), quietNext); err != nil {
				return err
			}
		}
	}
	if st.WeCom && group != "" {
		md := "**" + title + "**\n> " + strings.ReplaceAll(body, "\n", "\n> ")
		if err := s.addDelivery(ctx, db, e.Key, group, ChannelWeCom, groupTarget, title, md, "{}", quietNext); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) mailConfigured(st *Settings) bool { return st.SMTPHost != "" || s.smtp.Host != "" }

func (s *Service) addDelivery(ctx context.Context, db bun.IDB, key, recipient, channel, target, subject, body, params string, at time.Time) error {
	d := &delivery{EventKey: key, Recipient: recipient, Channel: channel, Target: target, Subject: subject, Body: body, Params: params,
		Status: outbox.Pending, NextMS: at.UnixMilli(), CreatedMS: s.now().UnixMilli()}
	if _, err := db.NewInsert().Model(d).ExcludeColumn("id").On("CONFLICT DO NOTHING").Exec(ctx); err != nil {
		return errorf("a delivery", dbx.Translate(err))
	}
	return nil
}

// Digest queues, once a day after 08:00 China time, one email per person who chose the daily
// digest with the notifications of the day before (key digest:<date>: queued once whatever runs).
func (s *Service) Digest(ctx context.Context) error {
	sc := tenants.ScopeFrom(ctx)
	if sc == nil || sc.Tenant == nil {
		_, _, err := tenants.Admit(ctx, tenants.Write)
		return err
	}
	now := s.now().In(chinaTime)
	if now.Hour() < 8 {
		return nil
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	from := today.AddDate(0, 0, -1)
	day := from.Format("2006-01-02")
	var due int
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		n, err := db.NewSelect().Table("notify_preferences").Where("digest").
			Where("NOT EXISTS (SELECT 1 FROM notify_deliveries d WHERE d.event_key = ? AND d.recipient = notify_preferences.identity_id)", "digest:"+day).
			Where("EXISTS (SELECT 1 FROM notify_inbox i WHERE i.identity_id = notify_preferences.identity_id AND i.created_at >= ? AND i.created_at < ?)",
				from.UnixMilli(), today.UnixMilli()).Count(ctx)
		due = int(n)
		return dbx.Translate(err)
	}); err != nil {
		return errorf("digest preferences", err)
	}
	if due == 0 {
		return nil
	}
	members, err := s.gate.FindMembers(ctx, sc.Tenant.ID)
	if err != nil {
		return errorf("members", err)
	}
	emails := map[string]string{}
	for _, m := range members {
		emails[m.Identity.ID.String()] = m.Identity.Email
	}
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		st, err := findSettings(ctx, db)
		if err != nil || !s.mailConfigured(st) {
			return err
		}
		var ps []*Preferences
		if err := db.NewSelect().Model(&ps).Where("digest").Scan(ctx); err != nil {
			return errorf("digest preferences", dbx.Translate(err))
		}
		for _, p := range ps {
			if emails[p.IdentityID] == "" {
				continue
			}
			var ns []*Notification
			if err := db.NewSelect().Model(&ns).Where("identity_id = ? AND created_at >= ? AND created_at < ?", p.IdentityID, from.UnixMilli(), today.UnixMilli()).
				OrderExpr("created_at").Scan(ctx); err != nil {
				return errorf("a digest", dbx.Translate(err))
			}
			if len(ns) == 0 {
				continue
			}
			var b strings.Builder
			for _, n := range ns {
				b.WriteString(n.Title + "\n" + n.Body + "\n\n")
			}
			if err := s.addDelivery(ctx, db, "digest:"+day, p.IdentityID, ChannelEmail, emails[p.IdentityID],
				msgDigestTitle.In("zh-CN", day), b.String(), "{}", s.now()); err != nil {
				return err
			}
		}
		return nil
	})
}
