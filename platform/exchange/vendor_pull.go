package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cityops/cityops/internal/clock"
	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/outbox"
	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/platform/cases"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// An API pull reads a vendor's records from its server instead of a file (docs/exchange.md,
// "Vendor import", "Pulling from an API"): the mapping's Pull section says where and how, the
// pull writes the records it gets, page after page, to a spool file as the JSON array the JSON
// reader reads, and the Importer imports that file as it imports an uploaded one — the same
// mapping, dry run, ledger, report, runs and metering. There is no second import path.

// PullKind is the protocol of a vendor's API.
type PullKind string

// The kinds of pull.
const (
	// PullJSONPages is any JSON API answering pages of records: GET base_url with the query,
	// the paging and the window's parameters; the records are the array at Records.
	PullJSONPages PullKind = "json_pages"
	// PullOpen311 is an Open311 GeoReport v2 server: GET {base_url}/requests.json.
	PullOpen311 PullKind = "open311"
)

// PullSource is where and how a vendor's records are pulled, kept with the mapping.
type PullSource struct {
	Kind PullKind `json:"kind"`
	// BaseURL is the address pulled (json_pages) or the Open311 endpoint ending before
	// requests.json (open311): http or https, without a user or password.
	BaseURL string `json:"base_url"`
	// Records is the JSON path of the records' array in a page, members joined by dots
	// ("data.list"); empty when the page is the array (json_pages only).
	Records string `json:"records,omitempty"`
	// Paging says how to ask for the next page; none: one request.
	Paging *PullPaging `json:"paging,omitempty"`
	// Query holds fixed query parameters sent with every request.
	Query map[string]string `json:"query,omitempty"`
	// Window names the parameters the pull's from and to go in (json_pages; an Open311 pull
	// sends start_date and end_date).
	Window *PullWindow `json:"window,omitempty"`
	// Jurisdiction is the Open311 jurisdiction_id, when the server wants one.
	Jurisdiction string `json:"jurisdiction_id,omitempty"`
	// Status restricts an Open311 pull to open or closed requests (empty: both).
	Status string `json:"status,omitempty"`
	// Auth says where the credential goes; the credential itself is in the tenant's secret
	// store as VendorCredentialName(vendor), never in the mapping.
	Auth *PullAuth `json:"auth,omitempty"`
	// MaxPages bounds the pages of one pull (DefaultPullPages when 0).
	MaxPages int `json:"max_pages,omitempty"`
	// MaxMiB bounds the bytes of one pull, in MiB (DefaultPullMiB when 0).
	MaxMiB int `json:"max_mib,omitempty"`
	// TimeoutSeconds bounds each request (DefaultPullTimeout when 0).
	TimeoutSeconds int `json:"timeout_seconds,omitempty"`
}

// PullPaging is how a pull asks for pages. By "page" sends the page number in Param (from
// Start, default 1); "offset" sends the number of records already read in Param (from Start,
// default 0); both send Size in SizeParam when given, and stop at an empty page or one that
// brings no record not read before. "cursor" sends the value found at the JSON path Next in
// Param; "next_link" fetches the address found at Next (on the same host); both stop when
// Next is missing or empty.
type PullPaging struct {
	By        string `json:"by"`
	Param     string `json:"param,omitempty"`
	SizeParam string `json:"size_param,omitempty"`
	Size      int    `json:"size,omitempty"`
	Start     *int   `json:"start,omitempty"`
	Next      string `json:"next,omitempty"`
}

// PullWindow names the query parameters of a pull's time window, written with Layout (a Go
// layout, in China time; default RFC 3339).
type PullWindow struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Layout string `json:"layout,omitempty"`
}

// PullAuth puts the vendor's credential in the request header Header (after Prefix, e.g.
// "Bearer ") or in the query parameter Query.
type PullAuth struct {
	Header string `json:"header,omitempty"`
	Prefix string `json:"prefix,omitempty"`
	Query  string `json:"query,omitempty"`
}

// Limits of a pull.
const (
	DefaultPullPages   = 10_000
	DefaultPullMiB     = 256
	MaxPullMiB         = 2048
	DefaultPullTimeout = 30 * time.Second
	// MaxPullPageSize caps the records a pull asks for in one page.
	MaxPullPageSize = 1000
	// DefaultPullPageBytes caps one page.
	DefaultPullPageBytes = 16 << 20
)

// VendorCredentials reads a tenant's credentials from its secret store (secrets.Store).
type VendorCredentials interface {
	Credential(ctx context.Context, tenant uuid.UUID, name string) (secrets.Secret, error)
}

// VendorCredentialName is the secret store's name of a vendor's API credential: "vendor_<vendor>"
// (`cityops credentials set <tenant> vendor_<vendor>` sets it).
func VendorCredentialName(vendor string) string { return "vendor_" + vendor }

// PullConfig tunes the pulls' HTTP client.
type PullConfig struct {
	// Client makes the requests (nil: a client of its own). Its CheckRedirect is replaced: a
	// pull follows redirects on the vendor's own host only.
	Client *http.Client
	// Backoff is the wait between attempts at a page (default 1 s doubling up to 30 s).
	Backoff outbox.Policy
	// Attempts is how often a page is tried on a 5xx, 408, 429, a timeout or a network error
	// (default 4).
	Attempts int
	// PageBytes caps one page (DefaultPullPageBytes when 0).
	PageBytes int64
}

func (c PullConfig) withDefaults() PullConfig {
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 4,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}}
	}
	if c.Backoff.Base <= 0 {
		c.Backoff.Base = time.Second
	}
	if c.Backoff.MaxBackoff <= 0 {
		c.Backoff.MaxBackoff = 30 * time.Second
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.PageBytes <= 0 {
		c.PageBytes = DefaultPullPageBytes
	}
	return c
}

// open311Fields are the fields of an Open311 pull's mapping when it names none: the members of
// a GeoReport v2 request. Its history rows (made by the pull) hold status, datetime and
// status_notes.
var (
	open311Fields = map[string]string{FieldRecordID: "service_request_id", FieldClassCode: "service_code", FieldLon: "long", FieldLat: "lat",
		FieldAddress: "address", FieldDescription: "description", FieldReportedAt: "requested_datetime"}
	open311History = map[string]string{HistoryState: "status", HistoryAt: "datetime", HistoryRemark: "status_notes"}
	open311States  = map[string]cases.Action{"open": cases.Report, "closed": cases.Close}
)

// pullDefaults fills what an Open311 pull's mapping leaves out: the fields, the history's fields
// and the state table (open → report, closed → close).
func (m *Mapping) pullDefaults() {
	if m.Pull == nil || m.Pull.Kind != PullOpen311 {
		return
	}
	if len(m.Fields) == 0 {
		m.Fields = maps.Clone(open311Fields)
	}
	if len(m.History.Fields) == 0 {
		m.History.Fields = maps.Clone(open311History)
	}
	if len(m.Codes.State) == 0 {
		m.Codes.State = maps.Clone(open311States)
	}
}

// check validates the pull section, field by field (nil: there is none).
func (s *PullSource) check() error {
	if s == nil {
		return nil
	}
	if s.Kind != PullJSONPages && s.Kind != PullOpen311 {
		return errs.Field("pull.kind", msgPullKind, textutil.Truncate(string(s.Kind), 30))
	}
	if err := checkPullText("pull.base_url", s.BaseURL, 2000); err != nil {
		return err
	}
	u, err := url.Parse(s.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" || u.Fragment != "" {
		return errs.Field("pull.base_url", msgPullURL, textutil.Truncate(s.BaseURL, 80))
	}
	if u.User != nil {
		return errs.Field("pull.base_url", msgPullURLUser)
	}
	if len(s.Query) > 50 {
		return errs.Field("pull.query", msgPullTooManyParams, 50)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Query)) {
		if err := checkParam("pull.query", k); err != nil {
			return err
		}
		if err := checkPullText("pull.query."+textutil.Truncate(k, 40), s.Query[k], 500); err != nil {
			return err
		}
	}
	own := map[string]string{} // the parameters the pull sets itself → where they are named
	if s.Kind == PullOpen311 {
		if s.Records != "" {
			return errs.Field("pull.records", msgPullNotOpen311, "pull.records")
		}
		if s.Window != nil {
			return errs.Field("pull.window", msgPullNotOpen311, "pull.window")
		}
		if err := checkPullText("pull.jurisdiction_id", s.Jurisdiction, 100); err != nil {
			return err
		}
		if s.Status != "" && s.Status != "open" && s.Status != "closed" {
			return errs.Field("pull.status", msgPullStatusValue)
		}
		for _, p := range []string{"start_date", "end_date", "status", "jurisdiction_id"} {
			own[p] = "open311"
		}
		if s.Paging != nil && s.Paging.By != "page" {
			return errs.Field("pull.paging.by", msgPullOpen311Paging)
		}
		if s.Paging == nil || s.Paging.Param == "" {
			own["page"] = "open311"
		}
	} else {
		if s.Jurisdiction != "" {
			return errs.Field("pull.jurisdiction_id", msgPullOpen311Only, "pull.jurisdiction_id")
		}
		if s.Status != "" {
			return errs.Field("pull.status", msgPullOpen311Only, "pull.status")
		}
		if err := checkPath("pull.records", s.Records, true); err != nil {
			return err
		}
		if w := s.Window; w != nil {
			for f, p := range map[string]string{"pull.window.from": w.From, "pull.window.to": w.To} {
				if err := checkParam(f, p); err != nil {
					return err
				}
			}
			if w.From == w.To {
				return errs.Field("pull.window.to", msgPullParamTwice, textutil.Truncate(w.To, 40), "pull.window.from")
			}
			own[w.From], own[w.To] = "pull.window.from", "pull.window.to"
			if err := checkPullText("pull.window.layout", w.Layout, 60); err != nil {
				return err
			}
		}
	}
	if p := s.Paging; p != nil {
		switch p.By {
		case "page", "offset":
			if s.Kind == PullOpen311 && p.Param == "" {
				break // "page"
			}
			if err := checkParam("pull.paging.param", p.Param); err != nil {
				return err
			}
		case "cursor":
			if err := checkParam("pull.paging.param", p.Param); err != nil {
				return err
			}
			if err := checkPath("pull.paging.next", p.Next, false); err != nil {
				return err
			}
		case "next_link":
			if p.Param != "" || p.SizeParam != "" || p.Start != nil {
				return errs.Field("pull.paging", msgPullNextLink)
			}
			if err := checkPath("pull.paging.next", p.Next, false); err != nil {
				return err
			}
		default:
			return errs.Field("pull.paging.by", msgPullPaging, textutil.Truncate(p.By, 30))
		}
		if (p.By == "page" || p.By == "offset") && p.Next != "" {
			return errs.Field("pull.paging.next", msgPullNextOnly, p.By)
		}
		if p.Start != nil && (*p.Start < 0 || *p.Start > 1_000_000) {
			return errs.Field("pull.paging.start", msgRange, "pull.paging.start", 0, 1_000_000)
		}
		if p.SizeParam != "" || p.Size != 0 {
			if err := checkParam("pull.paging.size_param", p.SizeParam); err != nil {
				return err
			}
			if p.Size < 1 || p.Size > MaxPullPageSize {
				return errs.Field("pull.paging.size", msgRange, "pull.paging.size", 1, MaxPullPageSize)
			}
			if where, taken := own[p.SizeParam]; taken || p.SizeParam == p.Param {
				return errs.Field("pull.paging.size_param", msgPullParamTwice, textutil.Truncate(p.SizeParam, 40), cmpOr(where, "pull.paging.param"))
			}
			own[p.SizeParam] = "pull.paging.size_param"
		}
		if p.Param != "" {
			if where, taken := own[p.Param]; taken {
				return errs.Field("pull.paging.param", msgPullParamTwice, textutil.Truncate(p.Param, 40), where)
			}
			own[p.Param] = "pull.paging.param"
		}
	}
	if a := s.Auth; a != nil {
		switch {
		case (a.Header == "") == (a.Query == ""):
			return errs.Field("pull.auth", msgPullAuth)
		case a.Header != "":
			if err := checkParam("pull.auth.header", a.Header); err != nil || strings.ContainsAny(a.Header, ":()<>@,;\\\"/[]?={}") {
				return errs.Field("pull.auth.header", msgPullParamName, "pull.auth.header")
			}
			if err := checkPullText("pull.auth.prefix", a.Prefix, 40); err != nil {
				return err
			}
		default:
			if a.Prefix != "" {
				return errs.Field("pull.auth.prefix", msgPullAuth)
			}
			if err := checkParam("pull.auth.query", a.Query); err != nil {
				return err
			}
			if where, taken := own[a.Query]; taken {
				return errs.Field("pull.auth.query", msgPullParamTwice, textutil.Truncate(a.Query, 40), where)
			}
			own[a.Query] = "pull.auth.query"
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Query)) {
		if where, taken := own[k]; taken {
			return errs.Field("pull.query", msgPullParamTwice, textutil.Truncate(k, 40), where)
		}
	}
	for f, v := range map[string][3]int{"pull.max_pages": {s.MaxPages, 0, 1_000_000}, "pull.max_mib": {s.MaxMiB, 0, MaxPullMiB},
		"pull.timeout_seconds": {s.TimeoutSeconds, 0, 300}} {
		if v[0] < v[1] || v[0] > v[2] {
			return errs.Field(f, msgRange, f, v[1], v[2])
		}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkPullText refuses NUL and other control characters, invalid UTF-8 and long texts.
func checkPullText(field, v string, n int) error {
	if !utf8.ValidString(v) {
		return errs.Field(field, msgControl, field)
	}
	return checkText(field, v, n)
}

// checkParam admits a parameter (or header) name: 1 to 100 characters, no space or control.
func checkParam(field, p string) error {
	if p == "" || len(p) > 100 || !utf8.ValidString(p) || strings.ContainsFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return errs.Field(field, msgPullParamName, field)
	}
	return nil
}

// checkPath admits a JSON path: members joined by dots (empty only when empty is true).
func checkPath(field, p string, empty bool) error {
	if p == "" && empty {
		return nil
	}
	if err := checkPullText(field, p, 200); err != nil {
		return err
	}
	if p == "" || slices.Contains(strings.Split(p, "."), "") {
		return errs.Field(field, msgPullPath, field)
	}
	return nil
}

// PullOptions say how to pull.
type PullOptions struct {
	// Vendor names the mapping; MappingVersion picks a version of it (0: the newest).
	Vendor         string
	MappingVersion int
	// From and To bound the records asked for (zero: not sent): the window's parameters, or
	// Open311's start_date and end_date.
	From, To time.Time
	// DryRun pulls and maps every record and reports, without writing anything.
	DryRun bool
	// Progress is called after each page (phase "pull") and then as the import's.
	Progress func(p ImportProgress)
}

// PullReport is an import's report with what the pull read.
type PullReport struct {
	*ImportReport
	Pull PullStats `json:"pull"`
}

// PullStats is what a pull read from the vendor's server.
type PullStats struct {
	Kind PullKind `json:"kind"`
	// Source is the address pulled, without its query.
	Source string     `json:"source"`
	From   *time.Time `json:"from,omitempty"`
	To     *time.Time `json:"to,omitempty"`
	Pages  int        `json:"pages"`
	Bytes  int64      `json:"bytes"`
	// Pulled counts the records as the server sent them; Duplicates those of them that a later
	// page sent again (the later one is imported, the record as the vendor last showed it).
	Pulled     int `json:"pulled"`
	Duplicates int `json:"duplicates"`
	// Retries counts the requests tried again after a failure.
	Retries int `json:"retries"`
}

// Pull pulls the vendor's records from its API as its mapping's Pull section says, into a spool
// file, and imports them as Import imports a file: checked first, nothing written with a problem
// anywhere or DryRun; written in chunks, a run keyed by the SHA-256 of the pulled records. A
// pull cut short while writing continues when the same records are pulled again (same mapping
// version, same answer from the vendor); when the vendor's records changed meanwhile, a new run
// starts and the ledger leaves what was written before unchanged — nothing is lost or written
// twice either way. Tenant admins and the system scope only.
func (im *Importer) Pull(ctx context.Context, opts PullOptions) (*PullReport, error) {
	sc, err := scope(ctx)
	if err != nil {
		return nil, err
	}
	if sc.ReadOnly || !sc.Has(tenants.TenantAdmin) {
		return nil, errs.E(errs.Forbidden, msgVendorAdminOnly)
	}
	if !opts.From.IsZero() && !opts.To.IsZero() && !opts.To.After(opts.From) {
		return nil, errs.Field("to", msgPullWindowOrder)
	}
	var m *Mapping
	if err := im.gate.Tx(ctx, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		m, err = findMapping(ctx, db, opts.Vendor, opts.MappingVersion)
		return err
	}); err != nil {
		return nil, err
	}
	src := m.Pull
	if src == nil {
		return nil, errs.E(errs.Invalid, msgPullNone, m.Vendor)
	}
	if src.Kind == PullJSONPages && src.Window == nil && (!opts.From.IsZero() || !opts.To.IsZero()) {
		return nil, errs.Field("from", msgPullNoWindow)
	}
	base, err := url.Parse(src.BaseURL)
	if err != nil {
		return nil, errs.Field("pull.base_url", msgPullURL, textutil.Truncate(src.BaseURL, 80))
	}
	if src.Kind == PullOpen311 {
		base = base.JoinPath("requests.json")
	}
	p := &pulling{im: im, m: m, src: src, base: base, opts: opts, idCol: m.Fields[FieldRecordID], timeout: DefaultPullTimeout,
		maxPages: DefaultPullPages, maxBytes: DefaultPullMiB << 20}
	if src.TimeoutSeconds > 0 {
		p.timeout = time.Duration(src.TimeoutSeconds) * time.Second
	}
	if src.MaxPages > 0 {
		p.maxPages = src.MaxPages
	}
	if src.MaxMiB > 0 {
		p.maxBytes = int64(src.MaxMiB) << 20
	}
	p.stats = PullStats{Kind: src.Kind, Source: redact(base)}
	if !opts.From.IsZero() {
		p.stats.From = &opts.From
	}
	if !opts.To.IsZero() {
		p.stats.To = &opts.To
	}
	if src.Auth != nil {
		name := VendorCredentialName(m.Vendor)
		if im.creds == nil {
			return nil, errs.E(errs.Invalid, msgPullNoCredential, m.Vendor, name, sc.Tenant.Slug, name)
		}
		p.cred, err = im.creds.Credential(ctx, sc.Tenant.ID, name)
		switch {
		case errs.Is(err, errs.NotFound):
			return nil, errs.E(errs.Invalid, msgPullNoCredential, m.Vendor, name, sc.Tenant.Slug, name)
		case err != nil:
			return nil, errs.Wrap(err, errs.Unavailable, msgPullCredentialStore)
		}
	}
	client := *im.pull.Client
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		// The vendor's own host and port only; http may become https on its usual port.
		same := req.URL.Scheme == base.Scheme && req.URL.Host == base.Host
		upgrade := base.Scheme == "http" && req.URL.Scheme == "https" && req.URL.Hostname() == base.Hostname() &&
			(req.URL.Port() == "" || req.URL.Port() == "443")
		if !same && !upgrade {
			return &redirectError{to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if len(via) >= 5 {
			return &redirectError{}
		}
		return nil
	}
	p.client = &client
	f, err := os.CreateTemp("", "cityops-pull-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	p.sp = &spool{f: f, last: map[string]int{}}
	if err := p.run(ctx); err != nil {
		return nil, err
	}
	p.stats.Duplicates = p.sp.dropped
	im.log.Info("pulled", "tenant", sc.Tenant.Slug, "vendor", m.Vendor, "source", p.stats.Source, "pages", p.stats.Pages,
		"bytes", p.stats.Bytes, "records", p.stats.Pulled, "duplicates", p.stats.Duplicates, "retries", p.stats.Retries)
	name := "pull " + p.stats.Source
	if !opts.From.IsZero() || !opts.To.IsZero() {
		name += " " + windowText(opts.From) + ".." + windowText(opts.To)
	}
	rep, err := im.Import(ctx, VendorFile{Name: name, Format: VendorJSON, Open: p.sp.open},
		ImportOptions{Vendor: m.Vendor, MappingVersion: m.Version, DryRun: opts.DryRun, Progress: opts.Progress})
	if err != nil {
		return nil, err
	}
	return &PullReport{ImportReport: rep, Pull: p.stats}, nil
}

func windowText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(clock.China).Format(time.RFC3339)
}

// redact is u without its query (which may hold the credential) and fragment.
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.User = "", "", nil
	return v.String()
}

// redirectError refuses a redirect: to another host (to), or one too many (to empty).
type redirectError struct{ to string }

func (e *redirectError) Error() string {
	return "redirected to " + cmpOr(e.to, "the same host too many times")
}

// pulling is one pull in progress.
type pulling struct {
	im       *Importer
	m        *Mapping
	src      *PullSource
	base     *url.URL
	opts     PullOptions
	client   *http.Client
	cred     secrets.Secret
	idCol    string
	timeout  time.Duration
	maxPages int
	maxBytes int64
	stats    PullStats
	sp       *spool
}

// run pulls every page into the spool.
func (p *pulling) run(ctx context.Context) error {
	q := p.base.Query()
	for k, v := range p.src.Query {
		q.Set(k, v)
	}
	if p.src.Kind == PullOpen311 {
		if p.src.Jurisdiction != "" {
			q.Set("jurisdiction_id", p.src.Jurisdiction)
		}
		if p.src.Status != "" {
			q.Set("status", p.src.Status)
		}
		if !p.opts.From.IsZero() {
			q.Set("start_date", p.opts.From.In(clock.China).Format(time.RFC3339))
		}
		if !p.opts.To.IsZero() {
			q.Set("end_date", p.opts.To.In(clock.China).Format(time.RFC3339))
		}
	} else if w := p.src.Window; w != nil {
		layout := cmpOr(w.Layout, time.RFC3339)
		if !p.opts.From.IsZero() {
			q.Set(w.From, p.opts.From.In(clock.China).Format(layout))
		}
		if !p.opts.To.IsZero() {
			q.Set(w.To, p.opts.To.In(clock.China).Format(layout))
		}
	}
	if a := p.src.Auth; a != nil && a.Query != "" {
		q.Set(a.Query, p.cred.Reveal())
	}
	paging := p.src.Paging
	if paging == nil {
		if p.src.Kind != PullOpen311 {
			_, _, err := p.page(ctx, p.with(q, nil))
			return err
		}
		paging = &PullPaging{By: "page"}
	}
	if paging.Size > 0 {
		q.Set(paging.SizeParam, strconv.Itoa(paging.Size))
	}
	switch paging.By {
	case "page", "offset":
		param := cmpOr(paging.Param, "page")
		n := 0
		if paging.By == "page" {
			n = 1
		}
		if paging.Start != nil {
			n = *paging.Start
		}
		for {
			got, fresh, err := p.page(ctx, p.with(q, map[string]string{param: strconv.Itoa(n)}))
			if err != nil || got == 0 || fresh == 0 {
				return err
			}
			if paging.By == "page" {
				n++
			} else {
				n += got
			}
		}
	case "cursor":
		seen := map[string]bool{}
		u := p.with(q, nil)
		for {
			raw, err := p.fetch(ctx, u)
			if err != nil {
				return err
			}
			if _, _, err := p.records(raw); err != nil {
				return err
			}
			next := jsonTextOf(at(raw, paging.Next))
			if next == "" {
				return nil
			}
			if seen[next] {
				return errs.E(errs.Upstream, msgPullLoop, p.stats.Pages, p.stats.Source, textutil.Truncate(next, 60))
			}
			seen[next] = true
			u = p.with(q, map[string]string{paging.Param: next})
		}
	default: // next_link
		seen := map[string]bool{}
		u := p.with(q, nil)
		for {
			raw, err := p.fetch(ctx, u)
			if err != nil {
				return err
			}
			if _, _, err := p.records(raw); err != nil {
				return err
			}
			next := jsonTextOf(at(raw, paging.Next))
			if next == "" {
				return nil
			}
			nu, err := u.Parse(next)
			if err != nil || nu.Scheme != p.base.Scheme || nu.Host != p.base.Host {
				return errs.E(errs.Upstream, msgPullRedirect, p.stats.Pages, p.stats.Source, textutil.Truncate(strings.ToValidUTF8(next, "?"), 80))
			}
			if a := p.src.Auth; a != nil && a.Query != "" && !nu.Query().Has(a.Query) {
				nq := nu.Query()
				nq.Set(a.Query, p.cred.Reveal())
				nu.RawQuery = nq.Encode()
			}
			if seen[nu.String()] {
				return errs.E(errs.Upstream, msgPullLoop, p.stats.Pages, p.stats.Source, textutil.Truncate(redact(nu), 80))
			}
			seen[nu.String()] = true
			u = nu
		}
	}
}

// with is the base address with the query q and the extra parameters.
func (p *pulling) with(q url.Values, extra map[string]string) *url.URL {
	v := url.Values{}
	for k, vs := range q {
		v[k] = slices.Clone(vs)
	}
	for k, s := range extra {
		v.Set(k, s)
	}
	u := *p.base
	u.RawQuery = v.Encode()
	return &u
}

// page fetches u and spools its records: how many it held, and how many of them were not read
// before.
func (p *pulling) page(ctx context.Context, u *url.URL) (int, int, error) {
	raw, err := p.fetch(ctx, u)
	if err != nil {
		return 0, 0, err
	}
	return p.records(raw)
}

// records spools the records of a page.
func (p *pulling) records(raw []byte) (int, int, error) {
	page, src := p.stats.Pages, p.stats.Source
	var list []json.RawMessage
	var items json.RawMessage = raw
	if p.src.Kind == PullJSONPages && p.src.Records != "" {
		items = at(raw, p.src.Records)
		if items == nil {
			return 0, 0, errs.E(errs.Upstream, msgPullNoArray, page, src, p.src.Records, saidJSON(raw))
		}
	}
	if string(bytes.TrimSpace(items)) != "null" {
		if err := json.Unmarshal(items, &list); err != nil {
			return 0, 0, errs.E(errs.Upstream, msgPullNoArray, page, src, cmpOr(p.src.Records, "."), saidJSON(raw))
		}
	}
	fresh := 0
	for i, item := range list {
		d := json.NewDecoder(bytes.NewReader(item))
		d.UseNumber()
		var obj map[string]any
		if err := d.Decode(&obj); err != nil || obj == nil {
			return 0, 0, errs.E(errs.Upstream, msgPullNotObject, page, src, i+1)
		}
		var rec []byte
		var id string
		var err error
		if p.src.Kind == PullOpen311 {
			id = jsonText(obj["service_request_id"])
			rec, err = open311Record(obj, p.m.History.Key)
		} else {
			id = jsonText(obj[p.idCol])
			var buf bytes.Buffer
			err = json.Compact(&buf, item)
			rec = buf.Bytes()
		}
		if err != nil {
			return 0, 0, errs.E(errs.Upstream, msgPullNotObject, page, src, i+1)
		}
		isNew, err := p.sp.add(rec, id)
		if err != nil {
			return 0, 0, err
		}
		if isNew {
			fresh++
		}
	}
	p.stats.Pulled += len(list)
	if p.opts.Progress != nil {
		p.opts.Progress(ImportProgress{Phase: "pull", Records: p.stats.Pulled})
	}
	return len(list), fresh, nil
}

// open311Record is a GeoReport v2 request as a record with its history: the report at
// requested_datetime, and, when its status is not open, that status at updated_datetime with
// the status_notes. An Open311 server tells no more of a request's history than that.
func open311Record(obj map[string]any, key string) ([]byte, error) {
	rec := maps.Clone(obj)
	hist := []map[string]any{{"status": "open", "datetime": obj["requested_datetime"]}}
	if st := jsonText(obj["status"]); st != "" && !strings.EqualFold(st, "open") {
		hist = append(hist, map[string]any{"status": strings.ToLower(st), "datetime": obj["updated_datetime"], "status_notes": obj["status_notes"]})
	}
	rec[cmpOr(key, "history")] = hist
	return json.Marshal(rec)
}

// at is the JSON value at the dotted path in raw (nil when there is none).
func at(raw []byte, path string) json.RawMessage {
	v := json.RawMessage(raw)
	for _, k := range strings.Split(path, ".") {
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil
		}
		var ok bool
		if v, ok = obj[k]; !ok {
			return nil
		}
	}
	return v
}

// jsonTextOf is jsonText of a raw JSON value (a string or a number; "" for null or none).
func jsonTextOf(raw json.RawMessage) string {
	if raw == nil {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return ""
	}
	return jsonText(v)
}

// saidJSON is what a vendor's page says instead of records: a message member, or its start.
func saidJSON(raw []byte) string {
	var p map[string]any
	if json.Unmarshal(raw, &p) == nil {
		for _, k := range []string{"msg", "message", "error", "errmsg", "detail", "description"} {
			if s, ok := p[k].(string); ok && s != "" {
				return textutil.Truncate(strings.ToValidUTF8(s, "?"), 200)
			}
		}
	}
	return textutil.Truncate(strings.ToValidUTF8(strings.TrimSpace(string(raw)), "?"), 120)
}

// fetch GETs one page, trying again on a 5xx, 408, 429, a timeout or a network error.
func (p *pulling) fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	if p.stats.Pages >= p.maxPages {
		return nil, errs.E(errs.TooLarge, msgPullTooManyPages, p.maxPages)
	}
	p.stats.Pages++
	page, src := p.stats.Pages, p.stats.Source
	attempts := p.im.pull.Attempts
	for attempt := 1; ; attempt++ {
		raw, err := p.get(ctx, u, page)
		if err == nil {
			p.stats.Bytes += int64(len(raw))
			if p.stats.Bytes > p.maxBytes {
				return nil, errs.E(errs.TooLarge, msgPullTooLarge, p.maxBytes>>20, page)
			}
			return raw, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var again *pullAgain
		if !errors.As(err, &again) {
			return nil, err
		}
		if attempt >= attempts {
			if again.status != "" {
				return nil, errs.E(errs.Upstream, msgPullStatus, page, src, again.status, again.detail, attempt)
			}
			return nil, errs.E(errs.Upstream, msgPullNoAnswer, page, src, again.detail, attempt)
		}
		wait := again.wait
		if wait <= 0 {
			wait = p.im.pull.Backoff.Backoff(attempt)
		}
		p.stats.Retries++
		p.im.log.Warn("pull: trying a page again", "vendor", p.m.Vendor, "page", page, "source", src, "attempt", attempt,
			"status", again.status, "detail", again.detail)
		t := time.NewTimer(min(wait, p.im.pull.Backoff.MaxBackoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// pullAgain is a failure of a request that trying again may cure: the server's status (empty
// when it did not answer), what it said or what went wrong, and how long it asked to wait.
type pullAgain struct {
	status, detail string
	wait           time.Duration
}

func (e *pullAgain) Error() string { return strings.TrimPrefix(e.status+": "+e.detail, ": ") }

// get makes one request for a page: its body, a *pullAgain, or a coded error.
func (p *pulling) get(ctx context.Context, u *url.URL, page int) ([]byte, error) {
	src := p.stats.Source
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errs.E(errs.Invalid, msgPullURL, textutil.Truncate(redact(u), 80))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "CityOps-Pull/1")
	if a := p.src.Auth; a != nil && a.Header != "" {
		req.Header.Set(a.Header, a.Prefix+p.cred.Reveal())
	}
	res, err := p.client.Do(req)
	if err != nil {
		var re *redirectError
		switch {
		case errors.As(err, &re) && re.to == "":
			return nil, errs.E(errs.Upstream, msgPullRedirects, page, src)
		case errors.As(err, &re):
			return nil, errs.E(errs.Upstream, msgPullRedirect, page, src, textutil.Truncate(re.to, 80))
		}
		cause := err.Error()
		var ue *url.Error // its text names the address, and so the credential of a query
		if errors.As(err, &ue) {
			cause = ue.Err.Error()
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cause = "no answer within " + p.timeout.String()
		}
		return nil, &pullAgain{detail: textutil.Truncate(cause, 200)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, p.im.pull.PageBytes+1))
	if err != nil {
		cause := err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cause = "no answer within " + p.timeout.String()
		}
		return nil, &pullAgain{detail: "reading the answer: " + textutil.Truncate(cause, 200)}
	}
	switch s := res.StatusCode; {
	case s >= 200 && s < 300:
		if int64(len(raw)) > p.im.pull.PageBytes {
			return nil, errs.E(errs.TooLarge, msgPullPageTooLarge, page, src, p.im.pull.PageBytes>>20)
		}
		if !json.Valid(raw) {
			return nil, errs.E(errs.Upstream, msgPullNotJSON, page, src, res.Status, textutil.Truncate(res.Header.Get("Content-Type"), 60),
				textutil.Truncate(strings.ToValidUTF8(strings.TrimSpace(string(raw)), "?"), 60))
		}
		return raw, nil
	case s >= 500, s == http.StatusRequestTimeout, s == http.StatusTooManyRequests:
		return nil, &pullAgain{status: res.Status, detail: said(raw, "-"), wait: retryAfter(res.Header.Get("Retry-After"))}
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		return nil, errs.E(errs.Upstream, msgPullRefused, page, src, res.Status, said(raw, "-"), VendorCredentialName(p.m.Vendor))
	default:
		return nil, errs.E(errs.Upstream, msgPullStatus, page, src, res.Status, said(raw, "-"), 1)
	}
}

// spool keeps the pulled records in a temporary file, each once: a record id met again drops
// the earlier copy.
type spool struct {
	f       *os.File
	spans   []span
	last    map[string]int // record id → its span
	size    int64
	dropped int
}

type span struct {
	off, n  int64
	dropped bool
}

// add appends rec; isNew is false when its id was met before.
func (s *spool) add(rec []byte, id string) (bool, error) {
	if _, err := s.f.Write(rec); err != nil {
		return false, err
	}
	isNew := true
	if id != "" {
		if i, ok := s.last[id]; ok {
			s.spans[i].dropped = true
			s.dropped++
			isNew = false
		}
		s.last[id] = len(s.spans)
	}
	s.spans = append(s.spans, span{off: s.size, n: int64(len(rec))})
	s.size += int64(len(rec))
	return isNew, nil
}

// open reads the spool as a JSON array of its records (VendorFile.Open).
func (s *spool) open() (io.ReadCloser, error) {
	return io.NopCloser(&spoolReader{s: s}), nil
}

type spoolReader struct {
	s       *spool
	i       int
	cur     io.Reader
	started bool
	first   bool
	done    bool
}

func (r *spoolReader) Read(b []byte) (int, error) {
	for {
		if r.cur != nil {
			n, err := r.cur.Read(b)
			if errors.Is(err, io.EOF) {
				r.cur = nil
				err = nil
			}
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		switch {
		case r.done:
			return 0, io.EOF
		case !r.started:
			r.started, r.first, r.cur = true, true, strings.NewReader("[")
			continue
		}
		for r.i < len(r.s.spans) && r.s.spans[r.i].dropped {
			r.i++
		}
		if r.i == len(r.s.spans) {
			r.done, r.cur = true, strings.NewReader("]")
			continue
		}
		sp := r.s.spans[r.i]
		r.i++
		sec := io.NewSectionReader(r.s.f, sp.off, sp.n)
		if r.first {
			r.first, r.cur = false, sec
		} else {
			r.cur = io.MultiReader(strings.NewReader(","), sec)
		}
	}
}

// ParseWindowTime reads a pull's from or to: a date (2006-01-02, China time; as to, the end of
// that day) or an RFC 3339 time.
func ParseWindowTime(field, v string, end bool) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, clock.China); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, errs.Field(field, msgPullTime, field, textutil.Truncate(strings.ToValidUTF8(v, "?"), 40))
	}
	return t, nil
}
