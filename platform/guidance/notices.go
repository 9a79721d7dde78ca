package guidance

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// The kinds of what a prefecture publishes: a notice (通知), a standard (标准规范), a document
// (文件), a policy (政策法规, often relayed from the province).
var NoticeKinds = []string{"notice", "standard", "document", "policy"}

// noticeRow is a notice as the prefecture stores it.
type noticeRow struct {
	bun.BaseModel `bun:"table:guidance_notices,alias:i"`
	ID            string `bun:"id,pk"`
	Kind          string `bun:"kind"`
	Title         string `bun:"title"`
	Body          string `bun:"body"`
	AckDueMS      *int64 `bun:"ack_due_at"`
	AllCounties   bool   `bun:"all_counties"`
	Origin        string `bun:"origin"`
	PublishedBy   string `bun:"published_by"`
	PublishedMS   int64  `bun:"published_at"`
}

// receiptRow is a county's receipt of a notice.
type receiptRow struct {
	bun.BaseModel `bun:"table:guidance_receipts"`
	NoticeID      string `bun:"notice_id,pk"`
	ReadMS        *int64 `bun:"read_at"`
	ReadBy        string `bun:"read_by"`
	AckedMS       *int64 `bun:"acked_at"`
	AckedBy       string `bun:"acked_by"`
	Note          string `bun:"note"`
}

// targetRow addresses an item to a county.
type targetRow struct {
	bun.BaseModel `bun:"table:guidance_targets"`
	ItemID        string `bun:"item_id,pk"`
	CountyID      string `bun:"county_id,pk"`
}

// Notice is a published notice: the prefecture's record, and in a county's inbox with the
// county's receipt.
type Notice struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	AckDueAt    *time.Time `json:"ack_due_at"`
	AllCounties bool       `json:"all_counties"`
	Origin      string     `json:"origin,omitempty"`
	PublishedBy string     `json:"published_by"`
	PublishedAt time.Time  `json:"published_at"`
	Files       []File     `json:"files"`
	// Counties are the chosen counties' slugs (the prefecture's view; empty with AllCounties).
	Counties []string `json:"counties,omitempty"`
	// Receipt is the county's own receipt (a county's view).
	Receipt *Receipt `json:"receipt,omitempty"`
}

// Receipt is a county's read receipt and acknowledgement of a notice.
type Receipt struct {
	ReadAt  *time.Time `json:"read_at"`
	ReadBy  string     `json:"read_by,omitempty"`
	AckedAt *time.Time `json:"acked_at"`
	AckedBy string     `json:"acked_by,omitempty"`
	Note    string     `json:"note,omitempty"`
}

func (r *noticeRow) notice() Notice {
	return Notice{ID: r.ID, Kind: r.Kind, Title: r.Title, Body: r.Body, AckDueAt: optMS(r.AckDueMS), AllCounties: r.AllCounties,
		Origin: r.Origin, PublishedBy: r.PublishedBy, PublishedAt: fromMS(r.PublishedMS), Files: []File{}}
}

func (r *receiptRow) receipt() *Receipt {
	return &Receipt{ReadAt: optMS(r.ReadMS), ReadBy: r.ReadBy, AckedAt: optMS(r.AckedMS), AckedBy: r.AckedBy, Note: r.Note}
}

// NoticeInput is a notice to publish. AckDue is a date (the end of that day, China time) or an
// RFC 3339 time; empty asks for no acknowledgement.
type NoticeInput struct {
	Kind     string   `json:"kind"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	AckDue   string   `json:"ack_due"`
	All      bool     `json:"all"`
	Counties []string `json:"counties"`
	// Origin is "province" for guidance relayed from the provincial platform (empty: the
	// prefecture's own).
	Origin string `json:"origin"`
}

// chinaTime is the zone a date-only deadline ends its day in.
var chinaTime = time.FixedZone("CST", 8*3600)

// parseDue reads a deadline: a date (its day's end, China time) or an RFC 3339 time, after now.
func parseDue(field, s string, now time.Time) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if !okText(s, 40) {
		return nil, errs.Field(field, msgBadTime, "")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		d, derr := time.ParseInLocation("2006-01-02", s, chinaTime)
		if derr != nil {
			return nil, errs.Field(field, msgBadTime, s)
		}
		t = d.Add(24*time.Hour - time.Millisecond)
	}
	if !t.After(now) {
		return nil, errs.Field(field, msgBadDue)
	}
	t = t.UTC()
	return &t, nil
}

// targets resolves the chosen counties (slugs) below pref; all takes every county and returns
// none to record.
// assigned are the counties a task or a template goes to: every county of pref now when all,
// else the chosen ones (targets). A notice to all instead reaches counties added later.
func (s *Service) assigned(ctx context.Context, pref *tenants.Tenant, all bool, slugs []string) ([]*tenants.Tenant, error) {
	if !all {
		return s.targets(ctx, pref, false, slugs)
	}
	ts, err := s.Channel.Counties(ctx, pref)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errs.Field("counties", msgNoCounties)
	}
	return ts, nil
}

// insertAssigned writes row (a task or a template) and its counties ts in one transaction and
// returns the counties' slugs.
func (s *Service) insertAssigned(ctx context.Context, row any, id string, ts []*tenants.Tenant) ([]string, error) {
	err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewInsert().Model(row).Exec(ctx); err != nil {
			return err
		}
		return insertTargets(ctx, db, id, ts)
	})
	if err != nil {
		return nil, err
	}
	slugs := make([]string, 0, len(ts))
	for _, c := range ts {
		slugs = append(slugs, c.Slug)
	}
	return slugs, nil
}

func (s *Service) targets(ctx context.Context, pref *tenants.Tenant, all bool, slugs []string) ([]*tenants.Tenant, error) {
	if all {
		return nil, nil
	}
	if len(slugs) == 0 {
		return nil, errs.Field("counties", msgNoCounties)
	}
	if len(slugs) > 1000 {
		return nil, errs.Field("counties", msgTooManyItems, 1000, "counties")
	}
	var out []*tenants.Tenant
	seen := map[uuid.UUID]bool{}
	for _, slug := range slugs {
		if !okText(slug, 63) {
			return nil, errs.Field("counties", msgNoCounty, "")
		}
		t, err := s.Channel.CountyOf(ctx, pref, slug)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				return nil, errs.Field("counties", msgNoCounty, slug)
			}
			return nil, err
		}
		if !seen[t.ID] {
			seen[t.ID] = true
			out = append(out, t)
		}
	}
	return out, nil
}

func insertTargets(ctx context.Context, db bun.IDB, item string, ts []*tenants.Tenant) error {
	if len(ts) == 0 {
		return nil
	}
	rows := make([]targetRow, len(ts))
	for i, t := range ts {
		rows[i] = targetRow{ItemID: item, CountyID: t.ID.String()}
	}
	_, err := db.NewInsert().Model(&rows).Exec(ctx)
	return err
}

// PublishNotice publishes a notice of the prefecture of ctx to all or the chosen counties, with
// its attachments.
func (s *Service) PublishNotice(ctx context.Context, in NoticeInput, files []Upload) (*Notice, error) {
	if in.Origin != "" && in.Origin != OriginProvince {
		return nil, errs.Field("origin", msgBadOrigin)
	}
	return s.publish(ctx, in, files, in.Origin)
}

func (s *Service) publish(ctx context.Context, in NoticeInput, files []Upload, origin string) (*Notice, error) {
	pref, err := asPrefecture(ctx, true)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(NoticeKinds, in.Kind) {
		return nil, errs.Field("kind", msgBadKind)
	}
	now := s.now().UTC()
	r := &noticeRow{ID: newID(), Kind: in.Kind, AllCounties: in.All, Origin: origin, PublishedBy: actor(ctx), PublishedMS: ms(now)}
	if r.Title, err = cleanText("title", "title", in.Title, 200); err != nil {
		return nil, err
	}
	if r.Body, err = optionalText("body", "body", in.Body, 20000); err != nil {
		return nil, err
	}
	due, err := parseDue("ack_due", in.AckDue, now)
	if err != nil {
		return nil, err
	}
	if due != nil {
		v := ms(*due)
		r.AckDueMS = &v
	}
	ts, err := s.targets(ctx, pref, in.All, in.Counties)
	if err != nil {
		return nil, err
	}
	fs, err := checkFiles("files", files, false)
	if err != nil {
		return nil, err
	}
	if err := s.putFiles(ctx, pref.ID, fs, files); err != nil {
		return nil, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
			return err
		}
		if err := insertTargets(ctx, db, r.ID, ts); err != nil {
			return err
		}
		return insertFiles(ctx, db, r.ID, fs, r.PublishedMS)
	})
	if err != nil {
		return nil, err
	}
	n := r.notice()
	n.Files = fs
	for _, t := range ts {
		n.Counties = append(n.Counties, t.Slug)
	}
	return &n, s.gate.AuditTenant(ctx, "guidance.notice.publish", r.ID, map[string]any{"title": r.Title, "all": r.AllCounties, "counties": n.Counties})
}

// Notices lists the prefecture's notices, newest first.
func (s *Service) Notices(ctx context.Context) ([]Notice, error) {
	if _, err := asPrefecture(ctx, false); err != nil {
		return nil, err
	}
	out := []Notice{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []noticeRow
		if err := db.NewSelect().Model(&rows).OrderExpr("published_at DESC, id").Limit(500).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.notice())
		}
		return nil
	})
	return out, err
}

// CountyReceipt is one addressed county's receipt of a notice, as the prefecture sees it.
type CountyReceipt struct {
	County string `json:"county"`
	Name   string `json:"name"`
	Receipt
	// Overdue: the acknowledgement deadline passed without one.
	Overdue bool `json:"overdue"`
	// Unavailable: the county's records could not be read.
	Unavailable bool `json:"unavailable"`
}

// NoticeStatus is a notice with every addressed county's receipt.
type NoticeStatus struct {
	Notice
	Receipts []CountyReceipt `json:"receipts"`
	Read     int             `json:"read"`
	Acked    int             `json:"acked"`
}

// FindNotice reads one of the prefecture's notices with its files and chosen counties.
func (s *Service) findNotice(ctx context.Context, id string) (*Notice, []string, error) {
	if _, err := asPrefecture(ctx, false); err != nil {
		return nil, nil, err
	}
	id, err := checkID("id", id)
	if err != nil {
		return nil, nil, err
	}
	var n Notice
	var counties []string
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		r := new(noticeRow)
		if err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
			return notFound(err, msgNoNotice)
		}
		n = r.notice()
		fs, err := filesOf(ctx, db, []string{id})
		if err != nil {
			return err
		}
		if fs[id] != nil {
			n.Files = fs[id]
		}
		return db.NewSelect().Model((*targetRow)(nil)).Column("county_id").Where("item_id = ?", id).Scan(ctx, &counties)
	})
	return &n, counties, err
}

// addressed returns the counties an item goes to: every county of pref, or the chosen ones.
func (s *Service) addressed(ctx context.Context, pref *tenants.Tenant, all bool, ids []string) ([]*tenants.Tenant, error) {
	cs, err := s.Channel.Counties(ctx, pref)
	if err != nil || all {
		return cs, err
	}
	var out []*tenants.Tenant
	for _, c := range cs {
		if slices.Contains(ids, c.ID.String()) {
			out = append(out, c)
		}
	}
	return out, nil
}

// NoticeStatus reads a notice of the prefecture of ctx and, through the channel, each addressed
// county's receipt: who has read it, who has acknowledged, who is late.
func (s *Service) NoticeStatus(ctx context.Context, id string) (*NoticeStatus, error) {
	n, ids, err := s.findNotice(ctx, id)
	if err != nil {
		return nil, err
	}
	pref := tenants.ScopeFrom(ctx).Tenant
	cs, err := s.addressed(ctx, pref, n.AllCounties, ids)
	if err != nil {
		return nil, err
	}
	st := &NoticeStatus{Notice: *n, Receipts: []CountyReceipt{}}
	now := s.now()
	for _, c := range cs {
		if !n.AllCounties {
			st.Counties = append(st.Counties, c.Slug)
		}
		cr := CountyReceipt{County: c.Slug, Name: c.NameZH}
		err := s.Channel.FromCounty(ctx, c, "notice "+n.ID, func(ctx context.Context, db bun.IDB) error {
			r := new(receiptRow)
			err := db.NewSelect().Model(r).Where("notice_id = ?", n.ID).Scan(ctx)
			if err == nil {
				cr.Receipt = *r.receipt()
			}
			return notFound(err, msgNoNotice)
		})
		switch {
		case err == nil:
		case errs.Is(err, errs.NotFound):
		case errs.CodeOf(err) == errs.Internal:
			return nil, err
		default:
			cr.Unavailable = true
		}
		if cr.ReadAt != nil {
			st.Read++
		}
		if cr.AckedAt != nil {
			st.Acked++
		}
		cr.Overdue = n.AckDueAt != nil && cr.AckedAt == nil && now.After(*n.AckDueAt)
		st.Receipts = append(st.Receipts, cr)
	}
	return st, nil
}

// NoticeFile opens a file of one of the prefecture's notices.
func (s *Service) NoticeFile(ctx context.Context, noticeID, fileID string) (*File, io.ReadCloser, error) {
	n, _, err := s.findNotice(ctx, noticeID)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range n.Files {
		if f.ID == fileID {
			r, err := s.openFile(ctx, tenants.ScopeFrom(ctx).Tenant.ID, &f)
			return &f, r, err
		}
	}
	return nil, nil, errs.E(errs.NotFound, msgNoFile)
}

// addressedTo is the SQL condition of the items (alias i, with all_counties when all) that go
// to county.
func addressedTo(county uuid.UUID, all bool) (string, []any) {
	cond := "EXISTS (SELECT 1 FROM guidance_targets g WHERE g.item_id = i.id AND g.county_id = ?)"
	if all {
		cond = "(i.all_counties OR " + cond + ")"
	}
	return cond, []any{county.String()}
}

// Inbox lists the notices the prefecture addressed to the county of ctx, newest first, each with
// the county's receipt.
func (s *Service) Inbox(ctx context.Context) ([]Notice, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	out := []Notice{}
	err := s.Channel.FromPrefecture(ctx, "inbox", func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, county uuid.UUID) error {
		var rows []noticeRow
		cond, args := addressedTo(county, true)
		if err := db.NewSelect().Model(&rows).Where(cond, args...).
			OrderExpr("i.published_at DESC, i.id").Limit(500).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.notice())
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return out, nil // no prefecture above: nothing comes in
	}
	if err != nil {
		return nil, err
	}
	return out, s.withReceipts(ctx, out)
}

// withReceipts adds the county's own receipts to its notices.
func (s *Service) withReceipts(ctx context.Context, ns []Notice) error {
	if len(ns) == 0 {
		return nil
	}
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rs []receiptRow
		if err := db.NewSelect().Model(&rs).Where("notice_id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
			return err
		}
		by := map[string]*Receipt{}
		for _, r := range rs {
			by[r.NoticeID] = r.receipt()
		}
		for i := range ns {
			ns[i].Receipt = by[ns[i].ID]
			if ns[i].Receipt == nil {
				ns[i].Receipt = &Receipt{}
			}
		}
		return nil
	})
}

// incoming reads one notice addressed to the county of ctx, with its files.
func (s *Service) incoming(ctx context.Context, id string) (*Notice, error) {
	id, err := checkID("id", id)
	if err != nil {
		return nil, err
	}
	var n Notice
	err = s.Channel.FromPrefecture(ctx, "notice "+id, func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, county uuid.UUID) error {
		r := new(noticeRow)
		cond, args := addressedTo(county, true)
		if err := db.NewSelect().Model(r).Where("i.id = ?", id).Where(cond, args...).Scan(ctx); err != nil {
			return notFound(err, msgNoNotice)
		}
		n = r.notice()
		fs, err := filesOf(ctx, db, []string{id})
		if fs[id] != nil {
			n.Files = fs[id]
		}
		return err
	})
	if errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.NotFound, msgNoNotice)
	}
	return &n, err
}

// ReadNotice reads a notice addressed to the county of ctx; a member who may act for the
// county leaves the read receipt (the first read is kept).
func (s *Service) ReadNotice(ctx context.Context, id string) (*Notice, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	n, err := s.incoming(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, err := asCounty(ctx, true); err == nil {
		now := ms(s.now())
		by := actor(ctx)
		err := s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
			_, err := db.NewInsert().Model(&receiptRow{NoticeID: n.ID, ReadMS: &now, ReadBy: by}).On("CONFLICT (notice_id) DO NOTHING").Exec(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	ns := []Notice{*n}
	if err := s.withReceipts(ctx, ns); err != nil {
		return nil, err
	}
	return &ns[0], nil
}

// Acknowledge records that the county of ctx acknowledges a notice addressed to it (签收), with
// an optional note; acknowledging again changes nothing.
func (s *Service) Acknowledge(ctx context.Context, id, note string) (*Notice, error) {
	if _, err := asCounty(ctx, true); err != nil {
		return nil, err
	}
	note, err := optionalText("note", "note", note, 1000)
	if err != nil {
		return nil, err
	}
	n, err := s.incoming(ctx, id)
	if err != nil {
		return nil, err
	}
	now := ms(s.now())
	by := actor(ctx)
	changed := false
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		r := new(receiptRow)
		err := db.NewSelect().Model(r).Where("notice_id = ?", n.ID).Scan(ctx)
		switch {
		case err == nil && r.AckedMS != nil:
			return nil
		case err == nil:
			_, err = db.NewUpdate().Model((*receiptRow)(nil)).Set("acked_at = ?, acked_by = ?, note = ?", now, by, note).Where("notice_id = ?", n.ID).Exec(ctx)
		default:
			if err = notFound(err, msgNoNotice); !errs.Is(err, errs.NotFound) {
				return err
			}
			_, err = db.NewInsert().Model(&receiptRow{NoticeID: n.ID, ReadMS: &now, ReadBy: by, AckedMS: &now, AckedBy: by, Note: note}).Exec(ctx)
		}
		changed = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	if changed {
		if err := s.gate.AuditTenant(ctx, "guidance.notice.acknowledge", n.ID, map[string]string{"title": n.Title}); err != nil {
			return nil, err
		}
	}
	ns := []Notice{*n}
	if err := s.withReceipts(ctx, ns); err != nil {
		return nil, err
	}
	return &ns[0], nil
}

// InboxFile opens a file of a notice addressed to the county of ctx.
func (s *Service) InboxFile(ctx context.Context, noticeID, fileID string) (*File, io.ReadCloser, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, nil, err
	}
	n, err := s.incoming(ctx, noticeID)
	if err != nil {
		return nil, nil, err
	}
	pref, err := s.Channel.PrefectureOf(ctx, tenants.ScopeFrom(ctx).Tenant)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range n.Files {
		if f.ID == fileID {
			r, err := s.openFile(ctx, pref.ID, &f)
			return &f, r, err
		}
	}
	return nil, nil, errs.E(errs.NotFound, msgNoFile)
}
