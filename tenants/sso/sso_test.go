package sso

import (
	"context"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/tenants"
)

// TestPlainHTTPIssuers: without PlainHTTPIssuers (CityOps served over https) an http issuer is
// refused before anything is stored, even on the loopback interface.
func TestPlainHTTPIssuers(t *testing.T) {
	s := New(Config{Now: time.Now})
	for _, issuer := range []string{"http://127.0.0.1:8080", "http://localhost/realms/x", " http://[::1]:9000"} {
		_, _, err := s.PutProvider(context.Background(), nil, tenants.SSOProviderInput{Key: "corp", DisplayName: "x", Issuer: issuer, ClientID: "c"}, "secret", "a@b.cn")
		if errs.FieldOf(err) != "issuer" {
			t.Errorf("%s: got %v, want an invalid issuer", issuer, err)
		}
	}
}

func TestClaimString(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"10023", "10023", true}, {float64(10023), "10023", true}, {float64(1.5), "", false}, {1e20, "", false},
		{"", "", false}, {nil, "", false}, {true, "", false}, {[]any{"a"}, "", false},
	} {
		got, ok := claimString(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("claimString(%#v) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWebURL(t *testing.T) {
	for u, want := range map[string]bool{
		"https://sso.example.gov.cn/logout": true, "http://127.0.0.1:1/end_session": true,
		"javascript:alert(1)": false, "/relative": false, "https://": false, "https://x/\x00": false, "data:text/html,x": false,
	} {
		if got := webURL(u); got != want {
			t.Errorf("webURL(%q) = %v, want %v", u, got, want)
		}
	}
}
