package tenants

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cityops/cityops/internal/errs"
)

var throttleStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// mustBegin starts an attempt that the throttle must let through.
func mustBegin(t *testing.T, th *LoginThrottle, email, addr string, now time.Time) *LoginAttempt {
	t.Helper()
	a, err := th.Begin(email, addr, now)
	if err != nil {
		t.Fatalf("%s from %s at %s: %v", email, addr, now.Format(time.TimeOnly), err)
	}
	return a
}

// failN counts n failures for email from addr at now, each allowed.
func failN(t *testing.T, th *LoginThrottle, email, addr string, now time.Time, n int) {
	t.Helper()
	for range n {
		mustBegin(t, th, email, addr, now).Fail(now)
	}
}

// failAfterWait waits out any pending delay for email from addr, counts a failure then and
// returns the time.
func failAfterWait(t *testing.T, th *LoginThrottle, email, addr string, now time.Time) time.Time {
	t.Helper()
	now = now.Add(waitOf(t, th, email, addr, now))
	mustBegin(t, th, email, addr, now).Fail(now)
	return now
}

// waitOf returns the wait a refused attempt asks for, or zero if the attempt is allowed (and
// then released).
func waitOf(t *testing.T, th *LoginThrottle, email, addr string, now time.Time) time.Duration {
	t.Helper()
	a, err := th.Begin(email, addr, now)
	if err == nil {
		a.Release(now)
		return 0
	}
	if !errs.Is(err, errs.RateLimited) || errs.RetryAfterOf(err) <= 0 {
		t.Fatalf("refusal: %v (retry after %v), want RateLimited with a wait", err, errs.RetryAfterOf(err))
	}
	return errs.RetryAfterOf(err)
}

func TestLoginThrottleDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{5: time.Second, 6: 2 * time.Second, 14: 512 * time.Second, 15: 15 * time.Minute, 100: 15 * time.Minute} {
		if got := accountLimit.delay(n); got != want {
			t.Errorf("account delay after %d failures: %v, want %v", n, got, want)
		}
	}
	if got := addressLimit.delay(30); got != time.Second {
		t.Errorf("address delay after 30 failures: %v, want 1s", got)
	}
}

func TestLoginThrottleAccountDelaysGrow(t *testing.T) {
	th := NewLoginThrottle()
	now := throttleStart
	failN(t, th, "li@chuxiong.cn", "192.0.2.1", now, accountLimit.free-1)
	if got := waitOf(t, th, "li@chuxiong.cn", "192.0.2.1", now); got != 0 {
		t.Fatalf("after %d failures: wait %v, want none", accountLimit.free-1, got)
	}
	// The fifth failure makes the next attempt wait 1 s, then 2 s, 4 s …; from another
	// address too (the count is the account's, and the email's case does not matter).
	want := time.Second
	for i := range 10 {
		mustBegin(t, th, " LI@chuxiong.cn", "192.0.2.1", now).Fail(now)
		if got := waitOf(t, th, "li@chuxiong.cn", "198.51.100.9", now); got != want {
			t.Fatalf("after failure %d: wait %v, want %v", accountLimit.free+i, got, want)
		}
		if got := waitOf(t, th, "li@chuxiong.cn", "198.51.100.9", now.Add(want/2)); got != want/2 {
			t.Fatalf("half-way through the wait after failure %d: wait %v, want %v", accountLimit.free+i, got, want/2)
		}
		now = now.Add(want)
		want *= 2
	}
	// Another account from the same address is not held up.
	if got := waitOf(t, th, "wang@chuxiong.cn", "192.0.2.1", now); got != 0 {
		t.Fatalf("another account: wait %v", got)
	}
}

func TestLoginThrottleRefusalSaysHowLong(t *testing.T) {
	th := NewLoginThrottle()
	now := throttleStart
	failN(t, th, "li@chuxiong.cn", "", now, accountLimit.free)
	_, err := th.Begin("li@chuxiong.cn", "", now.Add(time.Millisecond))
	if got, want := errs.MessageOf(err), "Too many failed logins; try again in 1 s."; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if got, want := errs.MessageIn(err, "zh-CN"), "登录失败次数过多，请 1 秒后再试。"; got != want {
		t.Fatalf("Chinese message %q, want %q", got, want)
	}
	// Two hours later all is forgotten; thirteen failures in a row make the wait 256 s.
	now = now.Add(2 * time.Hour)
	for range 13 {
		now = failAfterWait(t, th, "li@chuxiong.cn", "", now)
	}
	_, err = th.Begin("li@chuxiong.cn", "", now)
	if got, want := errs.MessageOf(err), "Too many failed logins; try again in 5 min."; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if got, want := errs.MessageIn(err, "zh-CN"), "登录失败次数过多，请 5 分钟后再试。"; got != want {
		t.Fatalf("Chinese message %q, want %q", got, want)
	}
}

func TestLoginThrottleAddress(t *testing.T) {
	th := NewLoginThrottle()
	now := throttleStart
	// One address guessing across many accounts: each account fails once, the address
	// collects them.
	for i := range addressLimit.free {
		mustBegin(t, th, fmt.Sprintf("user%d@chuxiong.cn", i), "203.0.113.5", now).Fail(now)
	}
	if got := waitOf(t, th, "someone@chuxiong.cn", "203.0.113.5", now); got != time.Second {
		t.Fatalf("after %d failures from one address: wait %v, want 1s", addressLimit.free, got)
	}
	if got := waitOf(t, th, "someone@chuxiong.cn", "203.0.113.6", now); got != 0 {
		t.Fatalf("another address: wait %v", got)
	}
	// An IPv6 client holds its whole /64.
	for i := range addressLimit.free {
		mustBegin(t, th, fmt.Sprintf("user%d@chuxiong.cn", i), fmt.Sprintf("2001:db8:1:2::%x", i+1), now).Fail(now)
	}
	if got := waitOf(t, th, "someone@chuxiong.cn", "2001:db8:1:2:ffff::1", now); got != time.Second {
		t.Fatalf("same /64: wait %v, want 1s", got)
	}
	if got := waitOf(t, th, "someone@chuxiong.cn", "2001:db8:1:3::1", now); got != 0 {
		t.Fatalf("another /64: wait %v", got)
	}
	// Failures are forgotten one a minute: after the wait and a minute, one more is free.
	now = now.Add(time.Minute + time.Second)
	mustBegin(t, th, "someone@chuxiong.cn", "203.0.113.5", now).Fail(now)
	if got := waitOf(t, th, "someone@chuxiong.cn", "203.0.113.5", now); got != time.Second {
		t.Fatalf("after one forgotten and one new failure: wait %v, want 1s", got)
	}
	// After half an hour of quiet the address starts afresh.
	now = now.Add(30 * time.Minute)
	failN(t, th, "someone@chuxiong.cn", "203.0.113.5", now, 1)
	if got := waitOf(t, th, "other@chuxiong.cn", "203.0.113.5", now); got != 0 {
		t.Fatalf("after half an hour: wait %v", got)
	}
}

func TestLoginThrottleForgetsAccountFailures(t *testing.T) {
	th := NewLoginThrottle()
	now := throttleStart
	failN(t, th, "li@chuxiong.cn", "192.0.2.1", now, accountLimit.free)
	// One failure is forgotten every 15 minutes: after 15 minutes four remain, so one more
	// failure is free again...
	now = now.Add(accountLimit.forget)
	failN(t, th, "li@chuxiong.cn", "192.0.2.1", now, 1)
	if got := waitOf(t, th, "li@chuxiong.cn", "192.0.2.1", now); got != time.Second {
		t.Fatalf("wait %v, want 1s", got)
	}
	// ... and after 75 minutes of quiet all are.
	now = now.Add(5 * accountLimit.forget)
	failN(t, th, "li@chuxiong.cn", "192.0.2.1", now, accountLimit.free-1)
	if got := waitOf(t, th, "li@chuxiong.cn", "192.0.2.1", now); got != 0 {
		t.Fatalf("after 75 minutes: wait %v", got)
	}
}

func TestLoginThrottleSuccess(t *testing.T) {
	th := NewLoginThrottle()
	now := throttleStart
	// Successes never count: a whole office logs in from one address, many times over.
	for i := range 200 {
		mustBegin(t, th, fmt.Sprintf("staff%d@chuxiong.cn", i%40), "192.0.2.1", now).Succeed(now)
	}
	if n := th.accounts.Len() + th.addresses.Len(); n != 0 {
		t.Fatalf("successful logins left %d entries", n)
	}
	// A success clears the account's failures, but not the address's.
	failN(t, th, "li@chuxiong.cn", "192.0.2.1", now, accountLimit.free-1)
	for i := range addressLimit.free - accountLimit.free {
		mustBegin(t, th, fmt.Sprintf("x%d@chuxiong.cn", i), "192.0.2.1", now).Fail(now)
	}
	mustBegin(t, th, "li@chuxiong.cn", "192.0.2.1", now).Succeed(now)
	failN(t, th, "li@chuxiong.cn", "192.0.2.2", now, accountLimit.free-1)
	if got := waitOf(t, th, "li@chuxiong.cn", "192.0.2.2", now); got != 0 {
		t.Fatalf("account after a success: wait %v", got)
	}
	mustBegin(t, th, "li@chuxiong.cn", "192.0.2.1", now).Fail(now)
	if got := waitOf(t, th, "anyone@chuxiong.cn", "192.0.2.1", now); got != time.Second {
		t.Fatalf("address after a success: wait %v, want 1s", got)
	}
}

func TestLoginThrottleInFlight(t *testing.T) {
	th := NewLoginThrottle()
	// Attempts being checked count in advance: a burst of parallel guesses gets the free
	// failures and no more.
	var burst []*LoginAttempt
	for range accountLimit.free {
		burst = append(burst, mustBegin(t, th, "li@chuxiong.cn", "", throttleStart))
	}
	if got := waitOf(t, th, "li@chuxiong.cn", "", throttleStart); got != time.Second {
		t.Fatalf("with %d in flight: wait %v, want 1s", len(burst), got)
	}
	// Attempts that end without an answer (a database error) count for nothing, and
	// ending twice changes nothing.
	for _, a := range burst {
		a.Release(throttleStart)
		a.Fail(throttleStart)
	}
	if n := th.accounts.Len(); n != 0 {
		t.Fatalf("released attempts left %d entries", n)
	}
	if got := waitOf(t, th, "li@chuxiong.cn", "", throttleStart); got != 0 {
		t.Fatalf("after release: wait %v", got)
	}
}

func TestLoginThrottleBoundedMemory(t *testing.T) {
	th := newLoginThrottle(100)
	now := throttleStart
	for i := range 1000 {
		mustBegin(t, th, fmt.Sprintf("guess%d@nowhere.cn", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250), now).Fail(now)
	}
	if a, b := th.accounts.Len(), th.addresses.Len(); a != 100 || b != 100 {
		t.Fatalf("entries: %d accounts, %d addresses; want 100 each", a, b)
	}
	// Refused attempts add nothing: a throttled address cannot push other accounts' counts
	// out by trying ever new emails.
	th = newLoginThrottle(100)
	for i := range addressLimit.free {
		mustBegin(t, th, fmt.Sprintf("f%d@nowhere.cn", i), "203.0.113.9", now).Fail(now)
	}
	for i := range 500 {
		if got := waitOf(t, th, fmt.Sprintf("new%d@nowhere.cn", i), "203.0.113.9", now); got == 0 {
			t.Fatalf("attempt %d from the throttled address went through", i)
		}
	}
	if n := th.accounts.Len(); n != addressLimit.free {
		t.Fatalf("%d accounts after refused attempts, want %d", n, addressLimit.free)
	}
	// A long email costs a bounded key.
	long := strings.Repeat("a", 1<<20) + "@x.cn"
	mustBegin(t, th, long, "10.9.9.9", now).Fail(now)
	for _, k := range th.accounts.Keys() {
		if len(k) > maxEmailKey {
			t.Fatalf("a key of %d bytes", len(k))
		}
	}
}

// TestLoginThrottledStore: Store.Login consults the throttle on both dialects.
func TestLoginThrottledStore(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := throttleStart
		s.now = func() time.Time { return now }
		for _, who := range []string{"li", "wang"} {
			if _, err := s.CreateIdentity(ctx, NewIdentity{Email: who + "@chuxiong.cn", Password: "a long password"}); err != nil {
				t.Fatal(err)
			}
		}
		const office = "192.0.2.10"
		// 50 successful logins in a row from one address all succeed.
		for i := range 50 {
			if _, _, err := s.Login(ctx, "li@chuxiong.cn", "a long password", "", office); err != nil {
				t.Fatalf("login %d: %v", i+1, err)
			}
		}
		// Five wrong passwords are answered as such; then even the right one must wait.
		for i := range accountLimit.free {
			if _, _, err := s.Login(ctx, "li@chuxiong.cn", "wrong password!", "", office); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("wrong password %d: %v", i+1, err)
			}
		}
		_, _, err := s.Login(ctx, "li@chuxiong.cn", "a long password", "", office)
		if !errs.Is(err, errs.RateLimited) || errs.RetryAfterOf(err) != time.Second {
			t.Fatalf("right password during the delay: %v (retry after %v)", err, errs.RetryAfterOf(err))
		}
		// Another account from the same address still logs in.
		if _, _, err := s.Login(ctx, "wang@chuxiong.cn", "a long password", "", office); err != nil {
			t.Fatalf("another account: %v", err)
		}
		// After the wait the right password works and clears the failures.
		now = now.Add(time.Second)
		if _, _, err := s.Login(ctx, "li@chuxiong.cn", "a long password", "", office); err != nil {
			t.Fatalf("after the wait: %v", err)
		}
		for i := range accountLimit.free {
			if _, _, err := s.Login(ctx, "li@chuxiong.cn", "wrong password!", "", office); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("wrong password %d after a success: %v", i+1, err)
			}
		}
		// Unknown emails are throttled exactly like known ones.
		for i := range accountLimit.free {
			if _, _, err := s.Login(ctx, "nobody@chuxiong.cn", "wrong password!", "", "198.51.100.1"); !errs.Is(err, errs.Unauthorized) {
				t.Fatalf("unknown email %d: %v", i+1, err)
			}
		}
		if _, _, err := s.Login(ctx, "nobody@chuxiong.cn", "wrong password!", "", "198.51.100.2"); !errs.Is(err, errs.RateLimited) {
			t.Fatalf("unknown email past the free failures: %v", err)
		}
	})
}
