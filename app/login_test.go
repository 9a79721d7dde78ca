package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cityops/cityops/app/console"
	"github.com/cityops/cityops/tenants"
)

// TestLoginThrottle: logins are limited by their failures, per account and per address, never
// by their successes; on the API and on the console's form alike. Every request here comes from
// one address, as from a county office behind one NAT.
func TestLoginThrottle(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			a, _, _ := MustBootApp(t, dialect)
			f := &fixture{app: a}
			for i := range 14 {
				if _, err := a.store.CreateIdentity(context.Background(), tenants.NewIdentity{Email: fmt.Sprintf("staff%d@wuding.cn", i), Password: testPassword}); err != nil {
					t.Fatal(err)
				}
			}
			apiLogin := func(email, password string) *response {
				t.Helper()
				res, err := f.do(t, "", "POST", "/api/v1/auth/login", `{"email":"`+email+`","password":"`+password+`"}`)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			formLogin := func(email, password, lang string) *response {
				t.Helper()
				req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if lang != "" {
					req.Header.Set("Cookie", console.LangCookie+"="+lang)
				}
				res, err := f.send(t, req)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}

			// Twelve people of the office log in within a minute (the old limiter let ten).
			for i := range 12 {
				if res := apiLogin(fmt.Sprintf("staff%d@wuding.cn", i), testPassword); res.status != 200 {
					t.Fatalf("staff%d logs in: %d %s", i, res.status, res.body)
				}
			}

			// Five wrong passwords for one account are answered as such; the sixth attempt,
			// even with the right password, must wait, and is told how long.
			for i := range 5 {
				if res := apiLogin("staff0@wuding.cn", "wrong password"); res.status != 401 {
					t.Fatalf("wrong password %d: %d %s", i+1, res.status, res.body)
				}
			}
			for _, pw := range []string{"wrong password", testPassword} {
				res := apiLogin("staff0@wuding.cn", pw)
				var p Problem
				if err := json.Unmarshal([]byte(res.body), &p); err != nil || res.status != 429 || p.Code != "rate_limited" ||
					res.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, "try again in 1 s") {
					t.Fatalf("attempt during the delay: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
				}
				if got := res.header.Get("Retry-After"); got != "1" {
					t.Fatalf("Retry-After %q, want 1", got)
				}
			}
			// Another account from the same address still logs in, by API and by form.
			if res := apiLogin("staff1@wuding.cn", testPassword); res.status != 200 {
				t.Fatalf("another account: %d %s", res.status, res.body)
			}
			if res := formLogin("staff2@wuding.cn", testPassword, ""); res.status != 303 {
				t.Fatalf("another account by form: %d %s", res.status, res.body)
			}

			// The form counts failures the same way and says so on the page, in Chinese by
			// default, with Retry-After.
			for i := range 5 {
				if res := formLogin("staff12@wuding.cn", "wrong password", ""); res.status != 401 || !strings.Contains(res.body, "邮箱或密码不正确") {
					t.Fatalf("form, wrong password %d: %d", i+1, res.status)
				}
			}
			res := formLogin("staff12@wuding.cn", testPassword, "")
			if res.status != 429 || !strings.Contains(res.body, "登录失败次数过多，请 1 秒后再试。") || res.header.Get("Retry-After") != "1" ||
				!strings.Contains(res.body, `value="staff12@wuding.cn"`) {
				t.Fatalf("form during the delay: %d Retry-After %q\n%s", res.status, res.header.Get("Retry-After"), res.body)
			}
			res = formLogin("staff12@wuding.cn", testPassword, "en")
			if res.status != 429 || !strings.Contains(res.body, "Too many failed logins; try again in 1 s.") {
				t.Fatalf("form during the delay, in English: %d\n%s", res.status, res.body)
			}
			// The API and the form share the count: the account the form throttled waits on
			// the API too.
			if res := apiLogin("staff12@wuding.cn", testPassword); res.status != 429 {
				t.Fatalf("API for the account the form throttled: %d %s", res.status, res.body)
			}
			if res := formLogin("staff13@wuding.cn", testPassword, ""); res.status != 303 {
				t.Fatalf("another account by form after the throttling: %d", res.status)
			}
		})
	}
}
