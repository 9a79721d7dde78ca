package notify

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/dbx"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/msg"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// The events of the prefecture's guidance and supervision (platform/guidance) that remind a
// county: a notice to acknowledge, a supervision task to answer, a monthly report to submit, each
// close to its deadline or past it. They notify the county's members who act for it in these
// flows (its admins, leaders and shift leads), and its WeChat Work robot.
const (
	KindGuidanceDue    = "guidance_due"
	KindSupervisionDue = "supervision_due"
	KindReportDue      = "report_due"
)

var (
	msgKindGuidanceDue    = msg.New("notify.kind.guidance_due", "Notice to acknowledge", "上级通知待签收")
	msgKindSupervisionDue = msg.New("notify.kind.supervision_due", "Supervision task to answer", "监督检查任务待反馈")
	msgKindReportDue      = msg.New("notify.kind.report_due", "Report to submit", "工作报表待报送")
	msgBadReminder        = msg.New("notify.bad_reminder", "A reminder needs a known kind, a key and a title.", "提醒须有可识别的类型、键和标题。")
)

// guidanceTemplates are the default bodies of the guidance reminders (DefaultTemplates has them).
var guidanceTemplates = map[string]string{
	KindGuidanceDue:    `上级通知「{{.Description}}」尚未签收{{if .Deadline}}，签收期限 {{.Deadline}}{{end}}，请及时阅读并签收。`,
	KindSupervisionDue: `监督检查任务「{{.Description}}」尚待反馈{{if .Deadline}}，截止 {{.Deadline}}{{end}}，请按清单检查并提交反馈。`,
	KindReportDue:      `「{{.Description}}」尚未报送{{if .Deadline}}，报送截止 {{.Deadline}}{{end}}，请及时填报。`,
}

func isGuidanceKind(k string) bool {
	return k == KindGuidanceDue || k == KindSupervisionDue || k == KindReportDue
}

// Reminder is one reminder to raise in a tenant: its kind (one of the guidance kinds), a key
// naming what it reminds of and when (a reminder raised again under its key adds nothing), the
// item's title and deadline.
type Reminder struct {
	Kind  string
	Key   string
	Title string
	Due   time.Time
}

// Remind records r as an event of the tenant of ctx; the fanout loop turns it into the inbox rows
// and deliveries of the members who act for the tenant. It reports whether the event is new.
func (s *Service) Remind(ctx context.Context, r Reminder) (bool, error) {
	if !isGuidanceKind(r.Kind) || r.Key == "" || len(r.Key) > 200 || strings.ContainsRune(r.Key, 0) ||
		!utf8.ValidString(r.Title) || strings.ContainsRune(r.Title, 0) || r.Title == "" {
		return false, errs.E(errs.Invalid, msgBadReminder)
	}
	d, _ := json.Marshal(map[string]string{"title": r.Title, "due": r.Due.In(chinaTime).Format("2006-01-02 15:04")})
	e := &event{Key: r.Kind + ":" + r.Key, Kind: r.Kind, Detail: string(d), CreatedMS: s.now().UnixMilli()}
	added := false
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		res, err := db.NewInsert().Model(e).On("CONFLICT DO NOTHING").Exec(ctx)
		if err != nil {
			return errorf("adding a reminder", dbx.Translate(err))
		}
		n, _ := res.RowsAffected()
		added = n > 0
		return nil
	})
	return added, err
}

// guidanceFields fills f from a reminder's detail.
func guidanceFields(e *event, f *Fields) {
	var d map[string]string
	_ = json.Unmarshal([]byte(e.Detail), &d)
	f.Description, f.Deadline = d["title"], d["due"]
}
