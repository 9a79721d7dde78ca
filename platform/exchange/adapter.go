package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cityops/cityops/internal/textutil"
	"github.com/cityops/cityops/tenants/secrets"
)

// Item is one change in a batch: its idempotency key (stable across retries and replays: the
// receiver applies each key once), its kind, the stream whose order it keeps (Subject, Seq: a
// case's events in version order) and its data in the batch's profile.
type Item struct {
	Key     string          `json:"key"`
	Kind    string          `json:"kind"`
	Subject string          `json:"subject"`
	Seq     int64           `json:"seq"`
	Data    json.RawMessage `json:"data"`
	// Skip marks an entry the profile does not carry: it is done without being sent.
	Skip bool `json:"-"`
}

// Sender names the tenant a batch comes from.
type Sender struct {
	AdminCode string `json:"admin_code"`
	Name      string `json:"name"`
	Tenant    string `json:"tenant"`
}

// Batch is what an adapter delivers: items of one tenant for one destination, at most one per
// subject (the next change of a case waits for the answer about the one before).
type Batch struct {
	ID      string
	Profile string
	Sender  Sender
	URL     string
	Timeout time.Duration
	// Credential is the destination's credential from the secret store; HasCredential is false
	// when it has none.
	Credential    secrets.Secret
	HasCredential bool
	Items         []Item
}

// Outcome is what became of one item.
type Outcome string

// The outcomes: accepted and duplicate (the receiver had it already) are done; retry is sent
// again after a backoff; rejected is dead (retrying cannot fix it) until an operator retries it.
const (
	Accepted  Outcome = "accepted"
	Duplicate Outcome = "duplicate"
	Retry     Outcome = "retry"
	Rejected  Outcome = "rejected"
)

// Result is the receiver's answer about one item.
type Result struct {
	Outcome Outcome
	Message string
}

// Delivery is an adapter's answer to a batch the receiver took: its status code and one
// result per item, in the batch's order.
type Delivery struct {
	Status  int
	Results []Result
}

// Adapter delivers batches to a destination. Deliver returns a result per item, or an error
// when the batch as a whole failed: a *Failure says how (a permanent one kills its items; any
// other error — the receiver down, timing out, answering 5xx — pauses the destination and
// leaves the items as they were). An adapter never retries itself: the outbox does.
type Adapter interface {
	Deliver(ctx context.Context, b *Batch) (*Delivery, error)
}

// Failure is a batch that failed as a whole: the receiver's status (0 when it was not
// reached), whether retrying can help, how long it asked to wait and what it said.
type Failure struct {
	Status     int
	Permanent  bool
	RetryAfter time.Duration
	Message    string
}

func (f *Failure) Error() string {
	if f.Status == 0 {
		return f.Message
	}
	return fmt.Sprintf("%d: %s", f.Status, f.Message)
}

// HTTPAdapter delivers a batch as one JSON POST (docs/exchange.md, "The adapter"):
//
//	POST <url>
//	Content-Type: application/json
//	Idempotency-Key: <digest of the batch's item keys>
//	Authorization: Bearer <credential>          (when the destination has one)
//	{"profile": …, "batch_id": …, "sent_at": …, "sender": {…}, "items": [{"key": …, …}]}
//
// and expects 200 with {"results": [{"key": …, "status": "accepted|duplicate|retry|rejected",
// "message": …}]}; an item the answer leaves out is sent again. 408, 425, 429, 5xx, 401, 403,
// 404, redirects, timeouts and network errors fail the batch for now (the destination pauses);
// any other 4xx rejects every item of the batch for good, keeping the receiver's message.
type HTTPAdapter struct {
	client *http.Client
}

// NewHTTPAdapter returns the JSON adapter over client (nil: a client of its own that follows
// no redirects; each batch's timeout is the destination's).
func NewHTTPAdapter(client *http.Client) *HTTPAdapter {
	if client == nil {
		client = &http.Client{
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
				TLSHandshakeTimeout: 10 * time.Second},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &HTTPAdapter{client: client}
}

var _ Adapter = (*HTTPAdapter)(nil)

// Envelope is the body of a batch on the wire.
type Envelope struct {
	Profile string    `json:"profile"`
	BatchID string    `json:"batch_id"`
	SentAt  time.Time `json:"sent_at"`
	Sender  Sender    `json:"sender"`
	Items   []Item    `json:"items"`
}

// Answer is the receiver's body: a result per item, by key.
type Answer struct {
	Results []struct {
		Key     string `json:"key"`
		Status  string `json:"status"`
		Message string `json:"message,omitempty"`
	} `json:"results"`
}

// BatchKey is the Idempotency-Key header of a batch: a digest of its items' keys, so the same
// items make the same header (the items' own keys are what a receiver must deduplicate by).
func BatchKey(items []Item) string {
	h := sha256.New()
	for _, it := range items {
		h.Write([]byte(it.Key))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// maxAnswer bounds the receiver's answer read.
const maxAnswer = 4 << 20

func (a *HTTPAdapter) Deliver(ctx context.Context, b *Batch) (*Delivery, error) {
	body, err := json.Marshal(Envelope{Profile: b.Profile, BatchID: b.ID, SentAt: time.Now().UTC(), Sender: b.Sender, Items: b.Items})
	if err != nil {
		return nil, err
	}
	if b.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL, bytes.NewReader(body))
	if err != nil {
		return nil, &Failure{Permanent: true, Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "CityOps-Exchange/1")
	req.Header.Set("Idempotency-Key", BatchKey(b.Items))
	req.Header.Set("X-CityOps-Profile", b.Profile)
	req.Header.Set("X-CityOps-Batch", b.ID)
	if b.HasCredential {
		req.Header.Set("Authorization", "Bearer "+b.Credential.Reveal())
	}
	res, err := a.client.Do(req)
	if err != nil {
		msg := "the receiver did not answer"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = "the receiver did not answer within " + b.Timeout.String()
		}
		// The error's text names the URL, which is the destination's own; never the credential.
		return nil, &Failure{Message: msg + ": " + textutil.Truncate(err.Error(), 300)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return nil, &Failure{Status: res.StatusCode, Message: "reading the answer: " + textutil.Truncate(err.Error(), 200)}
	}
	switch s := res.StatusCode; {
	case s >= 200 && s < 300:
		return answer(res.StatusCode, raw, b.Items)
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests, s >= 500,
		s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusNotFound, s >= 300 && s < 400:
		return nil, &Failure{Status: s, RetryAfter: retryAfter(res.Header.Get("Retry-After")), Message: said(raw, res.Status)}
	default:
		return nil, &Failure{Status: s, Permanent: true, Message: said(raw, res.Status)}
	}
}

// answer reads a 2xx answer's results.
func answer(status int, raw []byte, items []Item) (*Delivery, error) {
	var ans Answer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Results == nil {
		return nil, &Failure{Status: status, Message: "the answer has no results: " + said(raw, "")}
	}
	by := make(map[string]Result, len(ans.Results))
	for _, r := range ans.Results {
		out := Result{Outcome: Outcome(r.Status), Message: textutil.Truncate(r.Message, 500)}
		switch out.Outcome {
		case Accepted, Duplicate, Retry, Rejected:
		default:
			out = Result{Outcome: Retry, Message: "unknown status " + strconv.Quote(textutil.Truncate(r.Status, 20))}
		}
		by[r.Key] = out
	}
	d := &Delivery{Status: status, Results: make([]Result, len(items))}
	for i, it := range items {
		r, ok := by[it.Key]
		if !ok {
			r = Result{Outcome: Retry, Message: "not in the answer"}
		}
		d.Results[i] = r
	}
	return d, nil
}

// said is what a receiver's body says, for the log: a problem's detail or title, a message
// member, or the start of the text; def when it says nothing.
func said(raw []byte, def string) string {
	var p struct{ Detail, Title, Message, Error string }
	if json.Unmarshal(raw, &p) == nil {
		for _, s := range []string{p.Detail, p.Message, p.Error, p.Title} {
			if s != "" {
				return textutil.Truncate(s, 500)
			}
		}
	}
	if t := strings.TrimSpace(string(raw)); t != "" {
		return textutil.Truncate(strings.ToValidUTF8(t, "?"), 300)
	}
	return def
}

// retryAfter reads Retry-After in seconds (a date is ignored), at most an hour.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}
