package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The events that notify.
const (
	KindDispatched = "dispatched"
	KindRework     = "rework"
	KindWarning    = "warning"
	KindOverdue    = "overdue"
	KindAlarm      = "alarm"
	KindImport     = "import"      // a vendor import run finished (platform/exchange)
	KindBulletin   = "bulletin"    // an evaluation bulletin was published (platform/evaluation)
	KindVerifyTask = "verify_task" // a case was sent to an inspector to verify (核实)
	KindCheckTask  = "check_task"  // a case was sent to an inspector to check the work (核查)
)

// The channels a notification goes by besides the inbox. WeCom is the department's (or the
// tenant's) group robot, not a person's: its deliveries go to the group once per event.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	ChannelWeCom = "wecom"
)

// The secret store's names of the module's credentials (`cityops credentials set <tenant> …`).
const (
	// CredentialSMTP is the SMTP password of the tenant's own mail server.
	CredentialSMTP = "notify_smtp"
	// CredentialWeCom is the key of the tenant's WeChat Work group robot; a department's own robot
	// is "notify_wecom_<department code>".
	CredentialWeCom = "notify_wecom"
	// CredentialSMS is the SMS provider's access key, "<AccessKeyId>:<AccessKeySecret>".
	CredentialSMS = "notify_sms"
)

// MeterEmails counts the emails sent for a tenant (billing.MeterSMS counts its SMS).
const MeterEmails = "notify_emails"

// chinaTime is the zone of quiet hours, digests and the dates in notifications.
var chinaTime = time.FixedZone("CST", 8*3600)

// Credentials is the secret store as notify reads it.
type Credentials interface {
	Credential(ctx context.Context, tenant uuid.UUID, name string) (secrets.Secret, error)
}

// SMTP is an operator-wide mail server, used by tenants that configure none of their own.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // starttls (the default), tls or none
	Username string
	Password string
	From     string
}

// Config is what the service needs.
type Config struct {
	Gate        *tenants.Store
	Credentials Credentials
	Now         func() time.Time
	Log         *slog.Logger
	// SMTP is the operator's mail server (optional).
	SMTP SMTP
	// WeComURL is the robot webhook's address without the key; empty is WeChat Work's own
	// (https://qyapi.weixin.qq.com/cgi-bin/webhook/send).
	WeComURL string
	// SMS sends text messages; nil sends none (SMS deliveries are not made).
	SMS Provider
	// Policy is the delivery outbox's retry policy; zero values take DefaultPolicy's.
	Policy outbox.Policy
}

// DefaultPolicy retries a delivery for about a day, starting after 30 seconds.
var DefaultPolicy = outbox.Policy{Lease: 2 * time.Minute, MaxAttempts: 12, Base: 30 * time.Second, MaxBackoff: 2 * time.Hour}

// Service is the notifications' service.
type Service struct {
	gate   *tenants.Store
	creds  Credentials
	now    func() time.Time
	log    *slog.Logger
	smtp   SMTP
	wecom  string
	sms    Provider
	policy outbox.Policy
}

// NewService makes the service.
func NewService(cfg Config) *Service {
	s := &Service{gate: cfg.Gate, creds: cfg.Credentials, now: cfg.Now, log: cfg.Log, smtp: cfg.SMTP, wecom: cfg.WeComURL, sms: cfg.SMS, policy: cfg.Policy}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.smtp.TLS == "" {
		s.smtp.TLS = "starttls"
	}
	if s.wecom == "" {
		s.wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
	}
	if s.policy.Lease == 0 {
		s.policy.Lease = DefaultPolicy.Lease
	}
	if s.policy.MaxAttempts == 0 {
		s.policy.MaxAttempts = DefaultPolicy.MaxAttempts
	}
	if s.policy.Base == 0 {
		s.policy.Base = DefaultPolicy.Base
	}
	if s.policy.MaxBackoff == 0 {
		s.policy.MaxBackoff = DefaultPolicy.MaxBackoff
	}
	return s
}

// Notification is one row of a person's inbox.
type Notification struct {
	bun.BaseModel `bun:"table:notify_inbox"`
	ID            string  `bun:"id,pk" json:"id"`
	EventKey      string  `bun:"event_key" json:"-"`
	IdentityID    string  `bun:"identity_id" json:"-"`
	Kind          string  `bun:"kind" json:"kind"`
	Title         string  `bun:"title" json:"title"`
	Body          string  `bun:"body" json:"body"`
	CaseID        *string `bun:"case_id" json:"case_id"`
	CreatedMS     int64   `bun:"created_at" json:"-"`
	ReadMS        *int64  `bun:"read_at" json:"-"`

	CreatedAt time.Time  `bun:"-" json:"created_at"`
	ReadAt    *time.Time `bun:"-" json:"read_at"`
}

func (n *Notification) fill() {
	n.CreatedAt = time.UnixMilli(n.CreatedMS).UTC()
	if n.ReadMS != nil {
		t := time.UnixMilli(*n.ReadMS).UTC()
		n.ReadAt = &t
	}
}

// Preferences are a person's choice of channels per event (the inbox always gets everything)
// and whether email comes as one daily digest instead of one per event.
type Preferences struct {
	bun.BaseModel `bun:"table:notify_preferences"`
	IdentityID    string              `bun:"identity_id,pk" json:"-"`
	Channels      map[string][]string `bun:"-" json:"channels"`
	ChannelsJSON  string              `bun:"channels" json:"-"`
	Digest        bool                `bun:"digest" json:"digest"`
	UpdatedMS     int64               `bun:"updated_at" json:"-"`
}

// defaultChannels are a person's channels until they choose: email for every event.
func defaultChannels() map[string][]string {
	out := map[string][]string{}
	for k := range kinds {
		out[k] = []string{ChannelEmail}
	}
	return out
}

// wants reports whether p chose ch for kind.
func (p *Preferences) wants(kind, ch string) bool { return slices.Contains(p.Channels[kind], ch) }

// Settings are a tenant's notification settings. Quiet hours are minutes of the day in China
// time (from QuietStart to QuietEnd, across midnight when QuietStart > QuietEnd; equal: none).
type Settings struct {
	bun.BaseModel `bun:"table:notify_settings"`
	ID            int    `bun:"id,pk" json:"-"`
	QuietStart    int    `bun:"quiet_start" json:"quiet_start"`
	QuietEnd      int    `bun:"quiet_end" json:"quiet_end"`
	WarnMinutes   int    `bun:"warn_minutes" json:"warn_minutes"`
	WeCom         bool   `bun:"wecom" json:"wecom"`
	SMTPHost      string `bun:"smtp_host" json:"smtp_host"`
	SMTPPort      int    `bun:"smtp_port" json:"smtp_port"`
	SMTPTLS       string `bun:"smtp_tls" json:"smtp_tls"`
	SMTPUsername  string `bun:"smtp_username" json:"smtp_username"`
	SMTPFrom      string `bun:"smtp_from" json:"smtp_from"`
	SMSSignName   string `bun:"sms_sign_name" json:"sms_sign_name"`
	SMSTemplate   string `bun:"sms_template" json:"sms_template"`
	// Templates are the tenant's own bodies by event (text/template over Fields); an event
	// without one uses DefaultTemplates'.
	Templates     map[string]string `bun:"-" json:"templates"`
	TemplatesJSON string            `bun:"templates" json:"-"`
	UpdatedMS     int64             `bun:"updated_at" json:"-"`
}

func defaultSettings() *Settings {
	return &Settings{ID: 1, QuietStart: 22 * 60, QuietEnd: 7 * 60, WarnMinutes: 120, SMTPTLS: "starttls", Templates: map[string]string{}}
}

// DefaultTemplates are the bodies of each event's notification (text/template over Fields).
var DefaultTemplates = map[string]string{
	KindDispatched: `案件 {{.Number}} 已派遣到{{.Department}}，请及时处置。{{if .Description}}问题：{{.Description}}。{{end}}{{if .Address}}地点：{{.Address}}。{{end}}{{if .Deadline}}处置时限：{{.Deadline}}。{{end}}`,
	KindRework:     `案件 {{.Number}} 核查未通过，已返工{{.Department}}，请重新处置。{{if .Reason}}原因：{{.Reason}}。{{end}}{{if .Deadline}}处置时限：{{.Deadline}}。{{end}}`,
	KindWarning:    `案件 {{.Number}} 将于 {{.Deadline}} 到期，请抓紧处置。{{if .Address}}地点：{{.Address}}。{{end}}`,
	KindOverdue:    `案件 {{.Number}} 已超过处置时限（{{.Deadline}}），请尽快处置并反馈。`,
	KindAlarm:      `监测报警：{{.Description}}{{if .Address}}（{{.Address}}）{{end}}，级别 {{.Severity}}。`,
	KindImport:     `数据导入已完成：{{.Description}}。{{.Summary}}`,
	KindBulletin:   `{{.Tenant}}发布了{{.Description}}，请查阅。`,
	KindVerifyTask: `案件 {{.Number}} 待核实，请到现场核实。{{if .Description}}问题：{{.Description}}。{{end}}{{if .Address}}地点：{{.Address}}。{{end}}`,
	KindCheckTask:  `案件 {{.Number}} 已处置，待核查，请到现场核查处置结果。{{if .Description}}问题：{{.Description}}。{{end}}{{if .Address}}地点：{{.Address}}。{{end}}`,
	// The guidance reminders' (guidance.go).
	KindGuidanceDue:    guidanceTemplates[KindGuidanceDue],
	KindSupervisionDue: guidanceTemplates[KindSupervisionDue],
	KindReportDue:      guidanceTemplates[KindReportDue],
}

// Fields are what a template may use.
type Fields struct {
	Kind, Title, Number, Description, Address, Department, Deadline, Reason, Severity, Tenant string
	// Summary is what an import did ("新建 3 条，更新 2 条…").
	Summary string
}

// render is the body of kind's notification with f, from the tenant's template or the default.
func (st *Settings) render(kind string, f Fields) string {
	src := st.Templates[kind]
	if src == "" {
		src = DefaultTemplates[kind]
	}
	t, err := template.New(kind).Option("missingkey=zero").Parse(src)
	if err != nil {
		t = template.Must(template.New(kind).Parse(DefaultTemplates[kind]))
	}
	var b bytes.Buffer
	if err := t.Execute(&b, f); err != nil {
		b.Reset()
		_ = template.Must(template.New(kind).Parse(DefaultTemplates[kind])).Execute(&b, f)
	}
	return b.String()
}

// quiet reports whether t is in the quiet hours, and when they end.
func (st *Settings) quiet(t time.Time) (bool, time.Time) {
	if st.QuietStart == st.QuietEnd {
		return false, t
	}
	lt := t.In(chinaTime)
	m := lt.Hour()*60 + lt.Minute()
	var in bool
	if st.QuietStart < st.QuietEnd {
		in = m >= st.QuietStart && m < st.QuietEnd
	} else {
		in = m >= st.QuietStart || m < st.QuietEnd
	}
	if !in {
		return false, t
	}
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, chinaTime)
	end := day.Add(time.Duration(st.QuietEnd) * time.Minute)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return true, end
}

// FindSettings returns the tenant's settings (the defaults until an admin saves some).
func (s *Service) FindSettings(ctx context.Context) (*Settings, error) {
	var st *Settings
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var err error
		st, err = findSettings(ctx, db)
		return err
	})
	return st, err
}

func findSettings(ctx context.Context, db bun.IDB) (*Settings, error) {
	st := new(Settings)
	if err := db.NewSelect().Model(st).Where("id = 1").Scan(ctx); err != nil {
		if errs.Is(dbx.Translate(err), errs.NotFound) {
			return defaultSettings(), nil
		}
		return nil, dbx.Translate(err)
	}
	st.Templates = map[string]string{}
	if err := json.Unmarshal([]byte(st.TemplatesJSON), &st.Templates); err != nil || st.Templates == nil {
		st.Templates = map[string]string{}
	}
	return st, nil
}

// UpdateSettings replaces the tenant's settings after checking every field.
func (s *Service) UpdateSettings(ctx context.Context, in Settings) (*Settings, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	in.ID = 1
	in.UpdatedMS = s.now().UnixMilli()
	if in.Templates == nil {
		in.Templates = map[string]string{}
	}
	b, _ := json.Marshal(in.Templates)
	in.TemplatesJSON = string(b)
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&in).On("CONFLICT (id) DO UPDATE").
			Set("quiet_start = EXCLUDED.quiet_start, quiet_end = EXCLUDED.quiet_end, warn_minutes = EXCLUDED.warn_minutes").
			Set("wecom = EXCLUDED.wecom, smtp_host = EXCLUDED.smtp_host, smtp_port = EXCLUDED.smtp_port, smtp_tls = EXCLUDED.smtp_tls").
			Set("smtp_username = EXCLUDED.smtp_username, smtp_from = EXCLUDED.smtp_from, sms_sign_name = EXCLUDED.sms_sign_name").
			Set("sms_template = EXCLUDED.sms_template, templates = EXCLUDED.templates, updated_at = EXCLUDED.updated_at").Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// cleanText refuses text that is not valid UTF-8, holds NUL or control characters, or is longer
// than max.
func cleanText(field, v string, max int) error {
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) {
		return errs.Field(field, msgBadText, field, max)
	}
	return nil
}

func (st *Settings) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"quiet_start", st.QuietStart}, {"quiet_end", st.QuietEnd}} {
		if f.v < 0 || f.v > 1439 {
			return errs.Field(f.name, msgMinutesRange, f.name)
		}
	}
	if st.WarnMinutes < 1 || st.WarnMinutes > 10080 {
		return errs.Field("warn_minutes", msgWarnRange)
	}
	if st.SMTPTLS == "" {
		st.SMTPTLS = "starttls"
	}
	if !slices.Contains([]string{"starttls", "tls", "none"}, st.SMTPTLS) {
		return errs.Field("smtp_tls", msgTLSMode)
	}
	if st.SMTPPort < 0 || st.SMTPPort > 65535 {
		return errs.Field("smtp_port", msgBadPort)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"smtp_host", st.SMTPHost, 253}, {"smtp_username", st.SMTPUsername, 200}, {"smtp_from", st.SMTPFrom, 200},
		{"sms_sign_name", st.SMSSignName, 50}, {"sms_template", st.SMSTemplate, 50}} {
		if err := cleanText(f.name, f.v, f.max); err != nil {
			return err
		}
		if strings.ContainsAny(f.v, "\r\n") {
			return errs.Field(f.name, msgBadText, f.name, f.max)
		}
	}
	for k, src := range st.Templates {
		if kinds[k] == nil {
			return errs.Field("templates", msgUnknownKind, k)
		}
		if err := cleanText("templates."+k, src, 2000); err != nil {
			return err
		}
		if _, err := template.New(k).Parse(src); err != nil {
			return errs.Field("templates."+k, msgBadTemplate, k, err.Error())
		}
		var b bytes.Buffer
		if err := template.Must(template.New(k).Parse(src)).Execute(&b, Fields{}); err != nil {
			return errs.Field("templates."+k, msgBadTemplate, k, err.Error())
		}
	}
	return nil
}

// me is the caller's identity id.
func me(ctx context.Context) (string, error) {
	p := tenants.PrincipalFrom(ctx)
	if p == nil || p.Identity == nil {
		return "", errs.E(errs.Forbidden, msgNoIdentity)
	}
	return p.Identity.ID.String(), nil
}

// FindPreferences returns the caller's preferences (the defaults until they save some).
func (s *Service) FindPreferences(ctx context.Context) (*Preferences, error) {
	id, err := me(ctx)
	if err != nil {
		return nil, err
	}
	var p *Preferences
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		ps, err := findPreferences(ctx, db, []string{id})
		p = ps[id]
		return err
	})
	return p, err
}

// findPreferences are the preferences of ids, the defaults for those who saved none.
func findPreferences(ctx context.Context, db bun.IDB, ids []string) (map[string]*Preferences, error) {
	out := map[string]*Preferences{}
	if len(ids) > 0 {
		var ps []*Preferences
		if err := db.NewSelect().Model(&ps).Where("identity_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return nil, dbx.Translate(err)
		}
		for _, p := range ps {
			p.Channels = map[string][]string{}
			_ = json.Unmarshal([]byte(p.ChannelsJSON), &p.Channels)
			out[p.IdentityID] = p
		}
	}
	for _, id := range ids {
		if out[id] == nil {
			out[id] = &Preferences{IdentityID: id, Channels: defaultChannels()}
		}
	}
	return out, nil
}

// UpdatePreferences replaces the caller's preferences.
func (s *Service) UpdatePreferences(ctx context.Context, in Preferences) (*Preferences, error) {
	id, err := me(ctx)
	if err != nil {
		return nil, err
	}
	if in.Channels == nil {
		in.Channels = map[string][]string{}
	}
	for k, chs := range in.Channels {
		if kinds[k] == nil {
			return nil, errs.Field("channels", msgUnknownKind, truncate(k))
		}
		for _, ch := range chs {
			if ch != ChannelEmail && ch != ChannelSMS {
				return nil, errs.Field("channels."+k, msgUnknownChannel, truncate(ch))
			}
		}
		slices.Sort(chs)
		in.Channels[k] = slices.Compact(chs)
	}
	for k := range kinds {
		if in.Channels[k] == nil {
			in.Channels[k] = []string{}
		}
	}
	b, _ := json.Marshal(in.Channels)
	in.IdentityID, in.ChannelsJSON, in.UpdatedMS = id, string(b), s.now().UnixMilli()
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.NewInsert().Model(&in).On("CONFLICT (identity_id) DO UPDATE").
			Set("channels = EXCLUDED.channels, digest = EXCLUDED.digest, updated_at = EXCLUDED.updated_at").Exec(ctx)
		return dbx.Translate(err)
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}

func truncate(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	if r := []rune(s); len(r) > 30 {
		return string(r[:30]) + "…"
	}
	return s
}

// InboxFilter filters a person's inbox.
type InboxFilter struct {
	Unread bool
	Limit  int
}

// FindInbox lists the caller's notifications, newest first.
func (s *Service) FindInbox(ctx context.Context, f InboxFilter) ([]*Notification, error) {
	id, err := me(ctx)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	ns := []*Notification{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		q := db.NewSelect().Model(&ns).Where("identity_id = ?", id).OrderExpr("created_at DESC, id").Limit(int64(f.Limit))
		if f.Unread {
			q = q.Where("read_at IS NULL")
		}
		return dbx.Translate(q.Scan(ctx))
	})
	for _, n := range ns {
		n.fill()
	}
	return ns, err
}

// CountUnread is how many of the caller's notifications are unread.
func (s *Service) CountUnread(ctx context.Context) (int, error) {
	id, err := me(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		c, err := db.NewSelect().Table("notify_inbox").Where("identity_id = ? AND read_at IS NULL", id).Count(ctx)
		n = int(c)
		return dbx.Translate(err)
	})
	return n, err
}

// MarkRead marks the caller's notification id read (all of them when id is empty). Another
// person's notification is not found.
func (s *Service) MarkRead(ctx context.Context, id string) error {
	who, err := me(ctx)
	if err != nil {
		return err
	}
	if id != "" {
		if _, err := uuid.Parse(id); err != nil {
			return errs.E(errs.NotFound, msgNoNotification)
		}
	}
	now := s.now().UnixMilli()
	return s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if id == "" {
			_, err := db.NewUpdate().Table("notify_inbox").Set("read_at = ?", now).Where("identity_id = ? AND read_at IS NULL", who).Exec(ctx)
			return dbx.Translate(err)
		}
		n, err := db.NewSelect().Table("notify_inbox").Where("id = ? AND identity_id = ?", id, who).Count(ctx)
		if err != nil {
			return dbx.Translate(err)
		}
		if n == 0 {
			return errs.E(errs.NotFound, msgNoNotification)
		}
		_, err = db.NewUpdate().Table("notify_inbox").Set("read_at = ?", now).Where("id = ? AND read_at IS NULL", id).Exec(ctx)
		return dbx.Translate(err)
	})
}

// errorf wraps err with what failed.
func errorf(what string, err error) error { return fmt.Errorf("notify: %s: %w", what, err) }

// countUnread is the inbox link's count in the console's navigation.
func (s *Service) countUnread(ctx context.Context) (int, error) {
	if s == nil {
		return 0, nil
	}
	return s.CountUnread(ctx)
}
