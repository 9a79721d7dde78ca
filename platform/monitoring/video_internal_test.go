package monitoring

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/platform/platformtest"
	"github.com/cityops/cityops/tenants"
	"github.com/uptrace/bun"
)

// TestVideoCase: the case of a video alarm comes from the tenant's mapping of its event type;
// an alarm-only type, an unmapped built-in type and an unknown type open none.
func TestVideoCase(t *testing.T) {
	e := platformtest.MustEnv(t, "sqlite", Module(nil))
	s := NewService(Config{Gate: e.Store})
	if _, err := s.SetEventType(e.A, "exposed_garbage", EventType{Action: ActionCase, CaseKind: "event", ClassCode: "0101"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetEventType(e.A, "smoke_fire", EventType{Action: ActionAlarm}); err != nil {
		t.Fatal(err)
	}
	err := e.Store.Tx(e.A, tenants.Read, func(ctx context.Context, db bun.IDB) error {
		for _, tc := range []struct {
			typ, kind, class, desc string
			ok                     bool
		}{
			{"exposed_garbage", "event", "0101", "暴露垃圾", true},
			{"smoke_fire", "", "", "", false},
			{"occupied_road", "", "", "", false},
			{"alien_landing", "", "", "", false},
		} {
			k, c, d, ok, err := videoCase(ctx, db, tc.typ)
			if err != nil || ok != tc.ok || k != tc.kind || c != tc.class || d != tc.desc {
				t.Errorf("%s: %q %q %q %v %v", tc.typ, k, c, d, ok, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzCheckURL: a URL checkURL accepts is one ffmpeg may be given after -i: an allowed scheme
// with a host, no spaces, control characters or NUL bytes, never starting with '-'.
func FuzzCheckURL(f *testing.F) {
	for _, seed := range []string{"rtsp://admin:pw@10.0.0.1:554/ch1", "-i file:x", "rtsp://-x/", "file:///etc/passwd", "http://h/a b",
		"rtsp://h/\x00", "concat:a|b", "rtsp:opaque", "https://[::1]:8443/snap.jpg", "RTSP://H/x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := checkURL("url", raw, "rtsp", "rtsps", "http", "https")
		if err != nil {
			return
		}
		if strings.HasPrefix(raw, "-") || strings.ContainsAny(raw, " \t\r\n\x00\x7f") || u.Host == "" || strings.HasPrefix(u.Hostname(), "-") {
			t.Fatalf("accepted %q", raw)
		}
		if p, _ := url.Parse(raw); p == nil || (p.Scheme != "rtsp" && p.Scheme != "rtsps" && p.Scheme != "http" && p.Scheme != "https") {
			t.Fatalf("accepted the scheme of %q", raw)
		}
	})
}
