package guidance

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Point is a place to check on the map.
type Point struct {
	Lat   float64 `json:"lat"`
	Lng   float64 `json:"lng"`
	Label string  `json:"label"`
}

type taskRow struct {
	bun.BaseModel `bun:"table:guidance_tasks,alias:i"`
	ID            string `bun:"id,pk"`
	Title         string `bun:"title"`
	Body          string `bun:"body"`
	Checklist     string `bun:"checklist"`
	Points        string `bun:"points"`
	DueMS         int64  `bun:"due_at"`
	OpenedBy      string `bun:"opened_by"`
	OpenedMS      int64  `bun:"opened_at"`
}

type responseRow struct {
	bun.BaseModel `bun:"table:guidance_responses"`
	ID            string `bun:"id,pk"`
	TaskID        string `bun:"task_id"`
	Findings      string `bun:"findings"`
	Checks        string `bun:"checks"`
	CaseIDs       string `bun:"case_ids"`
	SubmittedBy   string `bun:"submitted_by"`
	SubmittedMS   int64  `bun:"submitted_at"`
}

type reviewRow struct {
	bun.BaseModel `bun:"table:guidance_reviews"`
	ID            string `bun:"id,pk"`
	TaskID        string `bun:"task_id"`
	CountyID      string `bun:"county_id"`
	ResponseID    string `bun:"response_id"`
	Verdict       string `bun:"verdict"`
	Score         *int   `bun:"score"`
	Comment       string `bun:"comment"`
	ReviewedBy    string `bun:"reviewed_by"`
	ReviewedMS    int64  `bun:"reviewed_at"`
}

// Task is a supervision task (监督检查): what to inspect, where, by when.
type Task struct {
	ID        string    `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Checklist []string  `json:"checklist"`
	Points    []Point   `json:"points"`
	DueAt     time.Time `json:"due_at"`
	OpenedBy  string    `json:"opened_by"`
	OpenedAt  time.Time `json:"opened_at"`
	// Counties are the addressed counties' slugs (the prefecture's view).
	Counties []string `json:"counties,omitempty"`
	// State, Responses and Reviews are one county's (a county's view; see Progress).
	*Progress
}

// Check is the answer to one checklist item.
type Check struct {
	OK   bool   `json:"ok"`
	Note string `json:"note"`
}

// Response is a county's answer to a task: findings, the checklist answered, the cases opened,
// photos.
type Response struct {
	ID          string    `json:"id"`
	Findings    string    `json:"findings"`
	Checks      []Check   `json:"checks"`
	CaseIDs     []string  `json:"case_ids"`
	Photos      []File    `json:"photos"`
	SubmittedBy string    `json:"submitted_by"`
	SubmittedAt time.Time `json:"submitted_at"`
}

// Review is the prefecture's judgement of a response: scored 0–100, or returned with a reason.
type Review struct {
	ResponseID string    `json:"response_id"`
	Verdict    string    `json:"verdict"`
	Score      *int      `json:"score"`
	Comment    string    `json:"comment"`
	ReviewedBy string    `json:"reviewed_by"`
	ReviewedAt time.Time `json:"reviewed_at"`
}

// Task states of one county.
const (
	StateOpen     = "open"     // not answered yet
	StateOverdue  = "overdue"  // not answered, past the deadline
	StateAnswered = "answered" // answered, waiting for the prefecture
	StateReturned = "returned" // sent back: to be answered again
	StateScored   = "scored"   // scored: done
)

// Progress is one county's way through a task: its responses (newest first), the reviews
// (newest first) and the state they make.
type Progress struct {
	County      string     `json:"county,omitempty"`
	Name        string     `json:"name,omitempty"`
	State       string     `json:"state"`
	Responses   []Response `json:"responses"`
	Reviews     []Review   `json:"reviews"`
	Score       *int       `json:"score"`
	Unavailable bool       `json:"unavailable,omitempty"`
}

func (p *Progress) settle(due, now time.Time) {
	p.State = StateOpen
	if len(p.Responses) == 0 {
		if now.After(due) {
			p.State = StateOverdue
		}
		return
	}
	p.State = StateAnswered
	if len(p.Reviews) > 0 && p.Reviews[0].ResponseID == p.Responses[0].ID {
		p.State = p.Reviews[0].Verdict
		if p.State == StateScored {
			p.Score = p.Reviews[0].Score
		}
	}
}

func (r *taskRow) task() Task {
	t := Task{ID: r.ID, Title: r.Title, Body: r.Body, DueAt: fromMS(r.DueMS), OpenedBy: r.OpenedBy, OpenedAt: fromMS(r.OpenedMS),
		Checklist: []string{}, Points: []Point{}}
	_ = json.Unmarshal([]byte(r.Checklist), &t.Checklist)
	_ = json.Unmarshal([]byte(r.Points), &t.Points)
	return t
}

func (r *responseRow) response() Response {
	out := Response{ID: r.ID, Findings: r.Findings, SubmittedBy: r.SubmittedBy, SubmittedAt: fromMS(r.SubmittedMS), Checks: []Check{}, CaseIDs: []string{}, Photos: []File{}}
	_ = json.Unmarshal([]byte(r.Checks), &out.Checks)
	_ = json.Unmarshal([]byte(r.CaseIDs), &out.CaseIDs)
	return out
}

func (r *reviewRow) review() Review {
	return Review{ResponseID: r.ResponseID, Verdict: r.Verdict, Score: r.Score, Comment: r.Comment, ReviewedBy: r.ReviewedBy, ReviewedAt: fromMS(r.ReviewedMS)}
}

// TaskInput is a task to open. Due is a date or an RFC 3339 time.
type TaskInput struct {
	Title     string   `json:"title"`
	Body      string   `json:"body"`
	Checklist []string `json:"checklist"`
	Points    []Point  `json:"points"`
	Due       string   `json:"due"`
	All       bool     `json:"all"`
	Counties  []string `json:"counties"`
}

// OpenTask opens a supervision task of the prefecture of ctx for all or the chosen counties (a
// task for all is addressed to the counties there are now).
func (s *Service) OpenTask(ctx context.Context, in TaskInput) (*Task, error) {
	pref, err := asPrefecture(ctx, true)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r := &taskRow{ID: newID(), OpenedBy: actor(ctx), OpenedMS: ms(now)}
	if r.Title, err = cleanText("title", "title", in.Title, 200); err != nil {
		return nil, err
	}
	if r.Body, err = optionalText("body", "body", in.Body, 20000); err != nil {
		return nil, err
	}
	if len(in.Checklist) > 50 {
		return nil, errs.Field("checklist", msgTooManyItems, 50, "checklist")
	}
	items := []string{}
	for _, c := range in.Checklist {
		c, err := cleanText("checklist", "checklist", c, 200)
		if err != nil {
			return nil, err
		}
		items = append(items, c)
	}
	if len(in.Points) > 100 {
		return nil, errs.Field("points", msgTooManyItems, 100, "points")
	}
	points := []Point{}
	for _, p := range in.Points {
		l, err := cleanText("points", "label", p.Label, 100)
		if err != nil || math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
			return nil, errs.Field("points", msgBadPoint)
		}
		points = append(points, Point{Lat: p.Lat, Lng: p.Lng, Label: l})
	}
	r.Checklist, r.Points = mustJSON(items), mustJSON(points)
	if in.Due == "" {
		return nil, errs.Field("due", msgBadDue)
	}
	due, err := parseDue("due", in.Due, now)
	if err != nil {
		return nil, err
	}
	r.DueMS = ms(*due)
	ts, err := s.assigned(ctx, pref, in.All, in.Counties)
	if err != nil {
		return nil, err
	}
	slugs, err := s.insertAssigned(ctx, r, r.ID, ts)
	if err != nil {
		return nil, err
	}
	t := r.task()
	t.Counties = slugs
	return &t, s.gate.AuditTenant(ctx, "guidance.task.open", r.ID, map[string]any{"title": r.Title, "counties": t.Counties})
}

// Tasks lists the prefecture's tasks, newest first.
func (s *Service) Tasks(ctx context.Context) ([]Task, error) {
	if _, err := asPrefecture(ctx, false); err != nil {
		return nil, err
	}
	out := []Task{}
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		var rows []taskRow
		if err := db.NewSelect().Model(&rows).OrderExpr("opened_at DESC, id").Limit(500).Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.task())
		}
		return nil
	})
	return out, err
}

// TaskStatus is a task with each addressed county's progress.
type TaskStatus struct {
	Task
	Progress []Progress `json:"progress"`
}

// findTask reads one of the prefecture's tasks with its addressed county ids.
func (s *Service) findTask(ctx context.Context, db bun.IDB, id string) (*Task, []string, error) {
	r := new(taskRow)
	if err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, nil, notFound(err, msgNoTask)
	}
	var ids []string
	if err := db.NewSelect().Model((*targetRow)(nil)).Column("county_id").Where("item_id = ?", id).Scan(ctx, &ids); err != nil {
		return nil, nil, err
	}
	t := r.task()
	return &t, ids, nil
}

// countyResponses reads a county's responses to task (newest first) with their photos.
func countyResponses(ctx context.Context, db bun.IDB, task string) ([]Response, error) {
	var rows []responseRow
	if err := db.NewSelect().Model(&rows).Where("task_id = ?", task).OrderExpr("submitted_at DESC, id DESC").Limit(100).Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]Response, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		out[i], ids[i] = r.response(), r.ID
	}
	fs, err := filesOf(ctx, db, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if fs[out[i].ID] != nil {
			out[i].Photos = fs[out[i].ID]
		}
	}
	return out, nil
}

// reviewsOf reads the prefecture's reviews of county's answers to task, newest first.
func reviewsOf(ctx context.Context, db bun.IDB, task, county string) ([]Review, error) {
	var rows []reviewRow
	if err := db.NewSelect().Model(&rows).Where("task_id = ? AND county_id = ?", task, county).OrderExpr("reviewed_at DESC, id DESC").Limit(100).Scan(ctx); err != nil {
		return nil, err
	}
	out := make([]Review, len(rows))
	for i, r := range rows {
		out[i] = r.review()
	}
	return out, nil
}

// TaskStatus reads a task of the prefecture of ctx with each addressed county's progress (its
// responses read through the channel).
func (s *Service) TaskStatus(ctx context.Context, id string) (*TaskStatus, error) {
	pref, err := asPrefecture(ctx, false)
	if err != nil {
		return nil, err
	}
	if id, err = checkID("id", id); err != nil {
		return nil, err
	}
	var t *Task
	var ids []string
	reviews := map[string][]Review{}
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		if t, ids, err = s.findTask(ctx, db, id); err != nil {
			return err
		}
		for _, c := range ids {
			if reviews[c], err = reviewsOf(ctx, db, id, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	cs, err := s.addressed(ctx, pref, false, ids)
	if err != nil {
		return nil, err
	}
	st := &TaskStatus{Task: *t, Progress: []Progress{}}
	now := s.now()
	for _, c := range cs {
		st.Counties = append(st.Counties, c.Slug)
		p := Progress{County: c.Slug, Name: c.NameZH, Reviews: reviews[c.ID.String()], Responses: []Response{}}
		err := s.Channel.FromCounty(ctx, c, "task "+id, func(ctx context.Context, db bun.IDB) error {
			var err error
			p.Responses, err = countyResponses(ctx, db, id)
			return err
		})
		if err != nil && errs.CodeOf(err) == errs.Internal {
			return nil, err
		}
		p.Unavailable = err != nil
		p.settle(t.DueAt, now)
		st.Progress = append(st.Progress, p)
	}
	return st, nil
}

// ReviewInput is the prefecture's judgement of a county's newest answer.
type ReviewInput struct {
	Verdict string `json:"verdict"`
	Score   *int   `json:"score"`
	Comment string `json:"comment"`
}

// ReviewTask scores (0–100) or sends back the newest answer of county (a slug) to a task of the
// prefecture of ctx. The answer is read through the channel; the review is the prefecture's
// record. An answer is judged once: a returned task is judged again after its next answer.
func (s *Service) ReviewTask(ctx context.Context, id, county string, in ReviewInput) (*Progress, error) {
	pref, err := asPrefecture(ctx, true)
	if err != nil {
		return nil, err
	}
	if id, err = checkID("id", id); err != nil {
		return nil, err
	}
	rv := &reviewRow{ID: newID(), TaskID: id, Verdict: in.Verdict, ReviewedBy: actor(ctx), ReviewedMS: ms(s.now())}
	switch in.Verdict {
	case StateScored:
		if in.Score == nil || *in.Score < 0 || *in.Score > 100 {
			return nil, errs.Field("score", msgBadVerdict)
		}
		v := *in.Score
		rv.Score = &v
		if rv.Comment, err = optionalText("comment", "comment", in.Comment, 2000); err != nil {
			return nil, err
		}
	case StateReturned:
		if in.Score != nil {
			return nil, errs.Field("score", msgBadVerdict)
		}
		if rv.Comment, err = cleanText("comment", "comment", in.Comment, 2000); err != nil {
			return nil, err
		}
	default:
		return nil, errs.Field("verdict", msgBadVerdict)
	}
	if !okText(county, 63) {
		return nil, errs.E(errs.NotFound, msgNoCounty, "")
	}
	c, err := s.Channel.CountyOf(ctx, pref, county)
	if err != nil {
		return nil, err
	}
	rv.CountyID = c.ID.String()
	var t *Task
	var ids []string
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		t, ids, err = s.findTask(ctx, db, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	addressed := false
	for _, x := range ids {
		addressed = addressed || x == rv.CountyID
	}
	if !addressed {
		return nil, errs.E(errs.NotFound, msgNoCounty, c.Slug)
	}
	var resp []Response
	if err := s.Channel.FromCounty(ctx, c, "task "+id, func(ctx context.Context, db bun.IDB) error {
		var err error
		resp, err = countyResponses(ctx, db, id)
		return err
	}); err != nil {
		return nil, err
	}
	if len(resp) == 0 {
		return nil, errs.E(errs.Conflict, msgNoResponse, c.NameZH)
	}
	rv.ResponseID = resp[0].ID
	p := &Progress{County: c.Slug, Name: c.NameZH, Responses: resp}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		n, err := db.NewSelect().Model((*reviewRow)(nil)).Where("task_id = ? AND county_id = ? AND response_id = ?", id, rv.CountyID, rv.ResponseID).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, msgAlreadyScored)
		}
		if _, err := db.NewInsert().Model(rv).Exec(ctx); err != nil {
			return err
		}
		p.Reviews, err = reviewsOf(ctx, db, id, rv.CountyID)
		return err
	})
	if err != nil {
		return nil, err
	}
	p.settle(t.DueAt, s.now())
	return p, s.gate.AuditTenant(ctx, "guidance.task.review", id, map[string]any{"county": c.Slug, "verdict": rv.Verdict, "score": rv.Score})
}

// MyTasks lists the tasks addressed to the county of ctx, newest first, each with the county's
// progress (its own responses, the prefecture's reviews of them).
func (s *Service) MyTasks(ctx context.Context) ([]Task, error) {
	return s.myTasks(ctx, "")
}

// MyTask reads one task addressed to the county of ctx with its progress.
func (s *Service) MyTask(ctx context.Context, id string) (*Task, error) {
	id, err := checkID("id", id)
	if err != nil {
		return nil, err
	}
	ts, err := s.myTasks(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, errs.E(errs.NotFound, msgNoTask)
	}
	return &ts[0], nil
}

func (s *Service) myTasks(ctx context.Context, only string) ([]Task, error) {
	if _, err := asCounty(ctx, false); err != nil {
		return nil, err
	}
	out := []Task{}
	err := s.Channel.FromPrefecture(ctx, "tasks", func(ctx context.Context, db bun.IDB, _ *tenants.Tenant, county uuid.UUID) error {
		var rows []taskRow
		cond, args := addressedTo(county, false)
		q := db.NewSelect().Model(&rows).Where(cond, args...).OrderExpr("i.opened_at DESC, i.id").Limit(500)
		if only != "" {
			q = q.Where("i.id = ?", only)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		for _, r := range rows {
			t := r.task()
			rvs, err := reviewsOf(ctx, db, r.ID, county.String())
			if err != nil {
				return err
			}
			t.Progress = &Progress{Reviews: rvs}
			out = append(out, t)
		}
		return nil
	})
	if errs.Is(err, errs.NotFound) {
		return out, nil
	}
	if err != nil || len(out) == 0 {
		return out, err
	}
	now := s.now()
	err = s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for i := range out {
			var err error
			if out[i].Responses, err = countyResponses(ctx, db, out[i].ID); err != nil {
				return err
			}
			out[i].settle(out[i].DueAt, now)
		}
		return nil
	})
	return out, err
}

// ResponseInput is a county's answer to a task: findings, the checklist answered item by item,
// the cases it opened (ids or numbers).
type ResponseInput struct {
	Findings string   `json:"findings"`
	Checks   []Check  `json:"checks"`
	CaseIDs  []string `json:"case_ids"`
}

// Respond records the county's answer to a task addressed to it, with photos; a task scored
// already takes no more answers.
func (s *Service) Respond(ctx context.Context, id string, in ResponseInput, photos []Upload) (*Task, error) {
	county, err := asCounty(ctx, true)
	if err != nil {
		return nil, err
	}
	t, err := s.MyTask(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.State == StateScored {
		return nil, errs.E(errs.Conflict, msgScoredClosed)
	}
	r := &responseRow{ID: newID(), TaskID: t.ID, SubmittedBy: actor(ctx), SubmittedMS: ms(s.now())}
	if r.Findings, err = cleanText("findings", "findings", in.Findings, 20000); err != nil {
		return nil, err
	}
	if len(in.Checks) != len(t.Checklist) {
		return nil, errs.Field("checks", msgBadChecks, len(t.Checklist))
	}
	checks := make([]Check, len(in.Checks))
	for i, c := range in.Checks {
		note, err := optionalText("checks", "note", c.Note, 1000)
		if err != nil {
			return nil, err
		}
		checks[i] = Check{OK: c.OK, Note: note}
	}
	if len(in.CaseIDs) > 50 {
		return nil, errs.Field("case_ids", msgTooManyItems, 50, "case_ids")
	}
	refs := []string{}
	for _, c := range in.CaseIDs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !okText(c, 64) {
			return nil, errs.Field("case_ids", msgBadCaseID, "?")
		}
		refs = append(refs, strings.Clone(c))
	}
	r.Checks = mustJSON(checks)
	caseIDs := []string{}
	fs, err := checkFiles("photos", photos, true)
	if err != nil {
		return nil, err
	}
	if err := s.putFiles(ctx, county.ID, fs, photos); err != nil {
		return nil, err
	}
	err = s.gate.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		for _, c := range refs {
			var ids []string
			if err := db.NewSelect().Table("cases").Column("id").Where("id = ? OR number = ?", c, c).Limit(1).Scan(ctx, &ids); err != nil {
				return err
			}
			if len(ids) == 0 {
				return errs.Field("case_ids", msgBadCaseID, c)
			}
			if !contains(caseIDs, ids[0]) {
				caseIDs = append(caseIDs, ids[0])
			}
		}
		r.CaseIDs = mustJSON(caseIDs)
		if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
			return err
		}
		return insertFiles(ctx, db, r.ID, fs, r.SubmittedMS)
	})
	if err != nil {
		return nil, err
	}
	if err := s.gate.AuditTenant(ctx, "guidance.task.respond", t.ID, map[string]any{"response": r.ID, "cases": caseIDs}); err != nil {
		return nil, err
	}
	return s.MyTask(ctx, t.ID)
}

// ResponseFile opens a photo of a response: the county's own (county true, in the tenant of
// ctx), or, for the prefecture, of county slug's response to its task, through the channel.
func (s *Service) ResponseFile(ctx context.Context, task, county, responseID, fileID string) (*File, io.ReadCloser, error) {
	var err error
	if task, err = checkID("id", task); err != nil {
		return nil, nil, err
	}
	if responseID, err = checkID("response", responseID); err != nil {
		return nil, nil, err
	}
	if fileID, err = checkID("file", fileID); err != nil {
		return nil, nil, err
	}
	find := func(ctx context.Context, db bun.IDB) (*File, error) {
		n, err := db.NewSelect().Model((*responseRow)(nil)).Where("id = ? AND task_id = ?", responseID, task).Count(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errs.E(errs.NotFound, msgNoFile)
		}
		return findFile(ctx, db, responseID, fileID)
	}
	var f *File
	if county == "" {
		c, err := asCounty(ctx, false)
		if err != nil {
			return nil, nil, err
		}
		if _, err := s.MyTask(ctx, task); err != nil {
			return nil, nil, err
		}
		if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error { f, err = find(ctx, db); return err }); err != nil {
			return nil, nil, err
		}
		r, err := s.openFile(ctx, c.ID, f)
		return f, r, err
	}
	pref, err := asPrefecture(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	if !okText(county, 63) {
		return nil, nil, errs.E(errs.NotFound, msgNoCounty, "")
	}
	c, err := s.Channel.CountyOf(ctx, pref, county)
	if err != nil {
		return nil, nil, err
	}
	if err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		_, ids, err := s.findTask(ctx, db, task)
		if err == nil && !contains(ids, c.ID.String()) {
			err = errs.E(errs.NotFound, msgNoTask)
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	if err := s.Channel.FromCounty(ctx, c, "photo "+fileID, func(ctx context.Context, db bun.IDB) error { f, err = find(ctx, db); return err }); err != nil {
		return nil, nil, err
	}
	r, err := s.openFile(ctx, c.ID, f)
	return f, r, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
