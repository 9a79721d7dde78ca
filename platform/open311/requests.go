package open311

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/platform/catalog"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// w3c writes t as Open311 dates are written: W3C / RFC 3339 with the offset, in China time.
func w3c(t time.Time) string { return t.In(clock.China).Format(time.RFC3339) }

// Query is a GET requests query, as parsed by ParseQuery.
type Query struct {
	// IDs, when given, override every other parameter.
	IDs          []string
	ServiceCodes []string
	// Status is "", "open" or "closed".
	Status     string
	Start, End time.Time
}

// ParseQuery reads the parameters of GET requests through get (the query string, or the form):
// service_request_id (comma list), service_code (comma list), status, start_date, end_date. With
// no dates the window is the DefaultWindow before now; with one, the window extends
// DefaultWindow from it.
func ParseQuery(get func(string) string, now time.Time) (Query, error) {
	var q Query
	if v := strings.TrimSpace(get("service_request_id")); v != "" {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				q.IDs = append(q.IDs, id)
			}
		}
		if len(q.IDs) > 100 {
			return q, errs.Field("service_request_id", msgMostServiceRequestIdOnce)
		}
		return q, nil
	}
	if v := strings.TrimSpace(get("service_code")); v != "" {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" {
				q.ServiceCodes = append(q.ServiceCodes, c)
			}
		}
	}
	switch q.Status = strings.ToLower(strings.TrimSpace(get("status"))); q.Status {
	case "", "open", "closed":
	default:
		return q, errs.Field("status", msgStatusOpenClosed)
	}
	start, err := parseDate(get, "start_date")
	if err != nil {
		return q, err
	}
	end, err := parseDate(get, "end_date")
	if err != nil {
		return q, err
	}
	switch {
	case start == nil && end == nil:
		q.End = now
		q.Start = now.Add(-DefaultWindow)
	case start == nil:
		q.End, q.Start = *end, end.Add(-DefaultWindow)
	case end == nil:
		q.Start, q.End = *start, start.Add(DefaultWindow)
	default:
		q.Start, q.End = *start, *end
	}
	if q.End.Before(q.Start) {
		return q, errs.Field("end_date", msgEndDateAfterStartDate)
	}
	return q, nil
}

func parseDate(get func(string) string, name string) (*time.Time, error) {
	v := strings.TrimSpace(get(name))
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, errs.Field(name, msgW3cDateTimeZoneE, name, textutil.Truncate(v, 40))
	}
	return &t, nil
}

// ParseUpdatesQuery reads start_date and end_date of servicerequestupdates, with the same
// default window as GET requests.
func ParseUpdatesQuery(get func(string) string, now time.Time) (Query, error) {
	q, err := ParseQuery(func(k string) string {
		if k == "start_date" || k == "end_date" {
			return get(k)
		}
		return ""
	}, now)
	return q, err
}

// statusNotes say in words where our richer states stand.
var statusNotes = map[cases.State]string{
	cases.Reported:            "已上报，待受理 / received, waiting to be accepted",
	cases.Verifying:           "核实中 / an inspector is verifying it on site",
	cases.Accepted:            "已受理，待立案 / accepted, waiting to be filed",
	cases.Filed:               "已立案，待派遣 / filed, waiting to be dispatched",
	cases.Voided:              "不予立案 / not filed (duplicate, or not a city issue)",
	cases.Dispatched:          "已派遣 / dispatched to the responsible department",
	cases.Handling:            "处置中 / being handled",
	cases.ExtensionRequested:  "处置中（申请延期）/ being handled; more time requested",
	cases.ReturnRequested:     "处置中（待重新派遣）/ being handled; may go to another department",
	cases.SuspensionRequested: "处置中（申请挂账）/ being handled; a pause requested",
	cases.Suspended:           "挂账 / on hold: it cannot be solved for now",
	cases.FedBack:             "已处置，待核查 / handled, waiting for the check",
	cases.Checking:            "核查中 / an inspector is checking the result on site",
	cases.Checked:             "已核查，待结案 / checked, waiting to be closed",
	cases.Closed:              "已结案 / solved and closed",
}

func statusOf(st cases.State) string {
	if st.Final() {
		return "closed"
	}
	return "open"
}

// requestOf maps a case onto a GeoReport request. The reporter's personal data is never part of
// it, whatever the case carries.
func requestOf(c *cases.Case, class catalog.Class, depts map[string]string, mediaURL string) Request {
	r := Request{ID: c.ID, Status: statusOf(c.State), StatusNotes: statusNotes[c.State], ServiceName: serviceOf(class).Name,
		ServiceCode: ServiceCode(c.Kind, c.ClassCode), Description: c.Description, ServiceNotice: "案卷编号 " + c.Number,
		RequestedDatetime: w3c(c.CreatedAt), UpdatedDatetime: w3c(c.UpdatedAt), Address: c.Address, Lat: c.Lat, Long: c.Lon, MediaURL: mediaURL}
	if c.DepartmentID != nil {
		r.AgencyResponsible = depts[*c.DepartmentID]
	}
	if c.DeadlineAt != nil && !c.State.Final() {
		r.ExpectedDatetime = w3c(*c.DeadlineAt)
	}
	return r
}

func (s *Service) departments(ctx context.Context) (map[string]string, error) {
	ds, err := s.depts.FindDepartments(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ds))
	for _, d := range ds {
		m[d.ID] = d.Name
	}
	return m, nil
}

func (s *Service) mediaURLs(ctx context.Context, ids []string) (map[string]string, error) {
	m := map[string]string{}
	if len(ids) == 0 {
		return m, nil
	}
	var rs []request
	err := s.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		return db.NewSelect().Model(&rs).Column("case_id", "media_url").Where("case_id IN (?) AND media_url <> ''", bun.List(ids)).Scan(ctx)
	})
	for _, r := range rs {
		m[r.CaseID] = r.MediaURL
	}
	return m, err
}

// FindRequestByID returns one request; NotFound unless it is a case of a public service.
func (s *Service) FindRequestByID(ctx context.Context, t *tenants.Tenant, id string) (*Request, error) {
	rs, err := s.FindRequests(ctx, t, Query{IDs: []string{id}})
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, errs.E(errs.NotFound, msgNoServiceRequest, textutil.Truncate(id, 40))
	}
	return &rs[0], nil
}

// FindRequests returns the requests matching q, newest first, at most MaxResults. Only cases
// of the tenant's public services are requests.
func (s *Service) FindRequests(ctx context.Context, t *tenants.Tenant, q Query) ([]Request, error) {
	ctx = readCtx(ctx, t)
	services, _, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	var found []cases.Case
	if len(q.IDs) > 0 {
		for _, id := range q.IDs {
			c, err := s.cases.FindCaseByID(ctx, id)
			if errs.Is(err, errs.NotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			c.Events, c.Photos, c.Reporter = nil, nil, nil
			found = append(found, *c)
		}
	} else {
		f := cases.Filter{From: &q.Start, To: &q.End, Limit: 500}
		switch q.Status {
		case "open":
			for _, st := range stateList {
				if !st.Final() {
					f.States = append(f.States, st)
				}
			}
		case "closed":
			f.States = []cases.State{cases.Closed, cases.Voided}
		}
		if len(q.ServiceCodes) == 1 {
			if k, code, ok := ParseServiceCode(q.ServiceCodes[0]); ok {
				f.Kind, f.ClassCode = string(k), code
			}
		}
		// Cases of classes that are not public are skipped; the scan is bounded.
		for pages := 0; pages < 4+s.maxResults/100 && len(found) < s.maxResults; pages++ {
			page, err := s.cases.FindCases(ctx, f)
			if err != nil {
				return nil, err
			}
			for _, c := range page.Cases {
				code := ServiceCode(c.Kind, c.ClassCode)
				if len(q.ServiceCodes) > 0 && !slices.Contains(q.ServiceCodes, code) {
					continue
				}
				found = append(found, c)
				if len(found) == s.maxResults {
					break
				}
			}
			if page.Next == "" {
				break
			}
			f.Cursor = page.Next
		}
	}
	var ids []string
	var keep []cases.Case
	for _, c := range found {
		if _, ok := services[ServiceCode(c.Kind, c.ClassCode)]; ok {
			keep = append(keep, c)
			ids = append(ids, c.ID)
		}
	}
	out := []Request{}
	if len(keep) == 0 {
		return out, nil
	}
	depts, err := s.departments(ctx)
	if err != nil {
		return nil, err
	}
	media, err := s.mediaURLs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range keep {
		c := &keep[i]
		out = append(out, requestOf(c, services[ServiceCode(c.Kind, c.ClassCode)], depts, media[c.ID]))
	}
	return out, nil
}

var stateList = []cases.State{cases.Reported, cases.Verifying, cases.Accepted, cases.Filed, cases.Voided, cases.Dispatched,
	cases.Handling, cases.ExtensionRequested, cases.ReturnRequested, cases.SuspensionRequested, cases.Suspended,
	cases.FedBack, cases.Checking, cases.Checked, cases.Closed}

// FindUpdates returns the servicerequestupdates of the window q.Start–q.End: one per recorded
// action on a request (case) of a public service, oldest first, at most MaxResults. The
// description is the state's note; who acted and why (free text that may name people) is not
// published. It looks at the MaxResults most recent requests created before the window's end.
func (s *Service) FindUpdates(ctx context.Context, t *tenants.Tenant, q Query) ([]Update, error) {
	ctx = readCtx(ctx, t)
	services, _, err := s.services(ctx, t)
	if err != nil {
		return nil, err
	}
	out := []Update{}
	if len(services) == 0 {
		return out, nil
	}
	f := cases.Filter{To: &q.End, Limit: 500}
	scanned := 0
	for scanned < s.maxResults {
		page, err := s.cases.FindCases(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Cases {
			scanned++
			if _, ok := services[ServiceCode(c.Kind, c.ClassCode)]; !ok || c.UpdatedAt.Before(q.Start) {
				continue
			}
			full, err := s.cases.FindCaseByID(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			for _, e := range full.Events {
				if e.At.Before(q.Start) || !e.At.Before(q.End) {
					continue
				}
				out = append(out, Update{UpdateID: e.ID, ServiceRequestID: c.ID, Status: statusOf(e.To),
					UpdatedDatetime: w3c(e.At), Description: statusNotes[e.To]})
			}
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	sortUpdates(out)
	if len(out) > s.maxResults {
		out = out[:s.maxResults]
	}
	return out, nil
}

func sortUpdates(us []Update) {
	// RFC 3339 strings in one zone sort like their instants; ties by id.
	slices.SortStableFunc(us, func(a, b Update) int {
		return cmp.Or(cmp.Compare(a.UpdatedDatetime, b.UpdatedDatetime), cmp.Compare(a.UpdateID, b.UpdateID))
	})
}

// ParseFloat reads lat or long; nil when empty.
func ParseFloat(name, v string) (*float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil, errs.Field(name, msgDecimalNumberWgs84Degrees, name)
	}
	return &x, nil
}
