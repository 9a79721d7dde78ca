package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"

	"github.com/cityops/cityops/internal/testdb"
	"github.com/cityops/cityops/platform/evaluation"
	"github.com/cityops/cityops/platform/exchange"
	"github.com/cityops/cityops/platform/monitoring"
	"github.com/cityops/cityops/platform/notify"
	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/cityops/cityops/tenants/secrets"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

var cst = time.FixedZone("CST", 8*3600)

// usage records what Deliver meters.
type usage struct {
	mu   sync.Mutex
	keys map[string]string
}

func (u *usage) Record(_ context.Context, _ uuid.UUID, meter string, _ int64, key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.keys == nil {
		u.keys = map[string]string{}
	}
	u.keys[key] = meter
	return nil
}

func (u *usage) count(meter string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, m := range u.keys {
		if m == meter {
			n++
		}
	}
	return n
}

// mailpit is a real SMTP server the test starts, read back through its HTTP API.
type mailpit struct {
	smtpPort int
	api      string
}

func mailpitBin(t testing.TB) string {
	if p := os.Getenv("CITYOPS_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("HOME"), "go", "bin"), "/root/go/bin"} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, "mailpit"); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no mailpit for the notification tests: go install github.com/axllent/mailpit@v1.33.1 (scripts/test.sh does)")
	}
	t.Skip("no mailpit (go install github.com/axllent/mailpit@v1.33.1, or set CITYOPS_MAILPIT): the email tests need a real SMTP server")
	return ""
}

func fileExists(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startMailpit(t testing.TB) *mailpit {
	t.Helper()
	bin := mailpitBin(t)
	sp, hp := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--smtp", fmt.Sprintf("127.0.0.1:%d", sp), "--listen", fmt.Sprintf("127.0.0.1:%d", hp),
		"--database", filepath.Join(t.TempDir(), "mail.db"))
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	m := &mailpit{smtpPort: sp, api: fmt.Sprintf("http://127.0.0.1:%d", hp)}
	for i := 0; ; i++ {
		resp, err := http.Get(m.api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", sp)); err == nil {
				c.Close()
				return m
			}
		}
		if i > 100 {
			t.Fatalf("mailpit did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type mail struct {
	ID, Subject, Text string
	To                []string
}

// messages are the messages mailpit holds, waiting up to 5 s for want of them.
func (m *mailpit) messages(t testing.TB, want int) []mail {
	t.Helper()
	var out []mail
	for i := 0; i < 50; i++ {
		out = out[:0]
		resp, err := http.Get(m.api + "/api/v1/messages")
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Messages []struct {
				ID      string
				Subject string
				To      []struct{ Address string }
			} `json:"messages"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list.Messages {
			ml := mail{ID: x.ID, Subject: x.Subject}
			for _, a := range x.To {
				ml.To = append(ml.To, a.Address)
			}
			out = append(out, ml)
		}
		if len(out) >= want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := range out {
		resp, err := http.Get(m.api + "/api/v1/message/" + out[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		var msg struct{ Text string }
		_ = json.NewDecoder(resp.Body).Decode(&msg)
		resp.Body.Close()
		out[i].Text = msg.Text
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i].To, ",") < strings.Join(out[j].To, ",") })
	return out
}

// wecom is a local WeChat Work group robot: it answers {"errcode":0,"errmsg":"ok"} (or the
// queued errors first) and keeps what it was sent.
type wecom struct {
	*httptest.Server
	mu     sync.Mutex
	key    string
	got    []map[string]any
	failed int
	fail   []int
}

func newWeCom(t testing.TB, key string) *wecom {
	w := &wecom{key: key}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.URL.Query().Get("key") != w.key {
			fmt.Fprint(rw, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || (body["msgtype"] != "markdown" && body["msgtype"] != "text") {
			fmt.Fprint(rw, `{"errcode":40008,"errmsg":"invalid message type"}`)
			return
		}
		if len(w.fail) > 0 {
			code := w.fail[0]
			w.fail = w.fail[1:]
			w.failed++
			fmt.Fprintf(rw, `{"errcode":%d,"errmsg":"failed"}`, code)
			return
		}
		w.got = append(w.got, body)
		fmt.Fprint(rw, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *wecom) received() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, b := range w.got {
		md, _ := b["markdown"].(map[string]any)
		s, _ := md["content"].(string)
		out = append(out, s)
	}
	return out
}

// aliyun is a local dysmsapi: it recomputes the request's signature with the secret it knows
// (independently of the code under test) and answers as Aliyun does.
type aliyun struct {
	*httptest.Server
	mu     sync.Mutex
	id     string
	secret string
	sent   []url.Values
	bad    int
}

func pct(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func aliyunSignature(method string, v url.Values, secret string) string {
	var keys []string
	for k := range v {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, pct(k)+"="+pct(v.Get(k)))
	}
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&" + pct("/") + "&" + pct(strings.Join(parts, "&"))))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func newAliyun(t testing.TB, id, secret string) *aliyun {
	a := &aliyun{id: id, secret: secret}
	a.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		_ = r.ParseForm()
		v := r.PostForm
		switch {
		case v.Get("AccessKeyId") != a.id:
			fmt.Fprint(rw, `{"Code":"InvalidAccessKeyId.NotFound","Message":"Specified access key is not found.","RequestId":"x"}`)
		case v.Get("SignatureMethod") != "HMAC-SHA1" || v.Get("SignatureVersion") != "1.0" || v.Get("Action") != "SendSms" || v.Get("Version") != "2017-05-25":
			a.bad++
			fmt.Fprint(rw, `{"Code":"isv.INVALID_PARAMETERS","Message":"bad","RequestId":"x"}`)
		case v.Get("Signature") != aliyunSignature(r.Method, v, a.secret):
			a.bad++
			fmt.Fprint(rw, `{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation.","RequestId":"x"}`)
		default:
			var p map[string]string
			if err := json.Unmarshal([]byte(v.Get("TemplateParam")), &p); err != nil {
				fmt.Fprint(rw, `{"Code":"isv.INVALID_JSON_PARAM","Message":"JSON参数不合法","RequestId":"x"}`)
				return
			}
			a.sent = append(a.sent, v)
			fmt.Fprint(rw, `{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}`)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *aliyun) messages() []url.Values {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]url.Values(nil), a.sent...)
}

// world is a tenant A with two departments, their staff as members, a case loop's tables to
// write cases into, and the local servers.
type world struct {
	e       *platformtest.Env
	clock   *clock
	svc     *notify.Service
	usage   *usage
	mail    *mailpit
	wecom   *wecom
	sms     *aliyun
	keys    *secrets.Keyring
	users   map[string]*tenants.Identity
	deptA   string
	deptB   string
	seq     int
	caseIDs map[string]string
}

func newWorld(t *testing.T, dialect string, withMail bool) *world {
	t.Helper()
	e := platformtest.MustEnv(t, dialect, monitoring.Module(nil), exchange.Module(nil, nil, nil), evaluation.Module(nil, nil, nil), notify.Module(nil))
	ctx := context.Background()
	keys, err := secrets.OpenKeyring(ctx, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{e: e, clock: &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, cst)}, usage: &usage{}, keys: keys,
		users: map[string]*tenants.Identity{}, caseIDs: map[string]string{}}
	for _, tn := range []*tenants.Tenant{e.TenantA, e.TenantB} {
		if err := keys.EnsureTenantKey(ctx, tn.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.wecom = newWeCom(t, "robot-key-a")
	w.sms = newAliyun(t, "LTAI-test", "test-secret")
	put := func(name, v string) {
		if _, err := keys.PutCredential(ctx, e.TenantA.ID, name, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	put(notify.CredentialWeCom, "robot-key-a")
	put(notify.CredentialSMS, "LTAI-test:test-secret")
	cfg := notify.Config{Gate: e.Store, Credentials: keys, Now: w.clock.Now, WeComURL: w.wecom.URL + "/cgi-bin/webhook/send",
		SMS: &notify.Aliyun{Endpoint: w.sms.URL + "/", Now: w.clock.Now}}
	settings := notify.Settings{QuietStart: 22 * 60, QuietEnd: 7 * 60, WarnMinutes: 120, WeCom: true, SMTPTLS: "none",
		SMSSignName: "城管通知", SMSTemplate: "SMS_123456"}
	if withMail {
		w.mail = startMailpit(t)
		settings.SMTPHost, settings.SMTPPort, settings.SMTPFrom = "127.0.0.1", w.mail.smtpPort, "cityops@chuxiong.example"
	}
	w.svc = notify.NewService(cfg)
	if _, err := w.svc.UpdateSettings(e.A, settings); err != nil {
		t.Fatal(err)
	}
	w.deptA, w.deptB = uuid.NewString(), uuid.NewString()
	now := w.clock.Now()
	w.exec(t, e.A, `INSERT INTO departments (id, code, name, level, created_at, updated_at) VALUES (?, 'D01', '市政公用局', 1, ?, ?), (?, 'D02', '园林局', 1, ?, ?)`,
		w.deptA, now, now, w.deptB, now, now)
	for _, u := range []struct{ key, dept, phone string }{{"alice", w.deptA, "13800000001"}, {"bob", w.deptA, "13800000002"}, {"carol", w.deptB, "13800000003"}} {
		id, err := e.Store.CreateIdentity(ctx, tenants.NewIdentity{Email: u.key + "@chuxiong.example", Name: u.key, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Store.Grant(ctx, e.TenantA, id.ID, tenants.Handler); err != nil {
			t.Fatal(err)
		}
		w.users[u.key] = id
		w.exec(t, e.A, `INSERT INTO staff (id, identity_id, name, phone, department_id, posts, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'handler', ?, ?, ?)`,
			uuid.NewString(), id.ID.String(), u.key, u.phone, u.dept, true, now, now)
	}
	// dave is a member of tenant B only.
	id, err := e.Store.CreateIdentity(ctx, tenants.NewIdentity{Email: "dave@wuding.example", Name: "dave", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Grant(ctx, e.TenantB, id.ID, tenants.TenantAdmin); err != nil {
		t.Fatal(err)
	}
	w.users["dave"] = id
	return w
}

func (w *world) exec(t testing.TB, ctx context.Context, q string, args ...any) {
	t.Helper()
	if err := w.e.Store.Tx(ctx, tenants.Write, func(ctx context.Context, db bun.IDB) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// dispatch makes a case dispatched to dept (as the case loop records it: the case row and its
// dispatch event) and returns its number.
func (w *world) dispatch(t testing.TB, dept string, deadline time.Time) string {
	t.Helper()
	w.seq++
	id, number := uuid.NewString(), fmt.Sprintf("532301-2026-%06d", w.seq)
	now := w.clock.Now()
	w.exec(t, w.e.A, `INSERT INTO cases (id, number, seq, state, version, source, kind, class_code, description, address, lon, lat, reported_by,
		department_id, clock_start, deadline_at, created_at, updated_at)
		VALUES (?, ?, ?, 'dispatched', 2, 'inspector', 'event', '0101', '井盖缺失', '鹿城南路 12 号', 101.5, 25.0, 'x', ?, ?, ?, ?, ?)`,
		id, number, 202600000000+w.seq, dept, now, deadline, now, now)
	w.exec(t, w.e.A, `INSERT INTO case_events (id, case_id, version, action, from_state, to_state, actor_id, post, at)
		VALUES (?, ?, 2, 'dispatch', 'filed', 'dispatched', 'x', 'dispatcher', ?)`, uuid.NewString(), id, now)
	w.caseIDs[number] = id
	return number
}

// pass runs one fanout and one delivery pass for tenant A.
func (w *world) pass(t testing.TB) notify.DeliverReport {
	t.Helper()
	if err := w.svc.Scan(w.e.A, notify.ScanFrom{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Fanout(w.e.A, 100); err != nil {
		t.Fatal(err)
	}
	rep, err := w.svc.Deliver(w.e.A, w.usage, 100)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// as is ctx of tenant A's member key (their principal and scope).
func (w *world) as(key string) context.Context {
	ctx := tenants.WithScope(context.Background(), &tenants.Scope{Tenant: w.e.TenantA, Roles: []tenants.Role{tenants.Handler}})
	return tenants.WithPrincipal(ctx, &tenants.Principal{Identity: w.users[key]})
}
