package tenants

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// LoginThrottle slows down password guessing by counting failed logins per account and per
// client address, as OWASP's authentication guidance describes: a few free failures, then
// delays that grow exponentially. Successful logins never count: an office of a hundred people
// behind one NAT can all log in at nine o'clock.
//
// The policy:
//
//   - Per account (the lower-cased email, whether or not an account has it, so the answers do
//     not tell which accounts exist): 5 free failures, forgotten one every 15 minutes. A person
//     who mistypes five times loses nothing; a guesser gets some twenty guesses at an account
//     in the first hour and four to seven an hour after.
//   - Per address (an IPv4 address, or the /64 of an IPv6 address, which one client usually
//     holds whole): 30 free failures, forgotten one a minute. Larger, because a county office
//     shares one address; it stops one address from guessing across many accounts.
//   - Past the free failures, each failure makes the next attempt wait 1 s, then 2 s, 4 s …
//     up to 15 minutes. While a wait is pending an attempt is refused at once (RateLimited,
//     with RetryAfter), without checking the password, and a refused attempt counts for
//     nothing.
//   - A successful login clears the account's failures (not the address's: otherwise a guesser
//     could clear them by logging into an account of its own).
//   - Attempts checked at the same time count as failures in advance: once those in flight
//     would use up the free failures, the next waits for them (otherwise a burst of parallel
//     guesses would all be checked before the first failure is counted).
//
// The price is that a guesser can make an account's owner wait too (never more than 15
// minutes after the guesser's last failure); nothing is locked for good. Memory is bounded by
// LRUs of 50,000 accounts and 50,000 addresses (some 30 MB at worst); the keys least recently
// tried are dropped first. On PostgreSQL the replicas also share the counts
// (control.login_failures, login_shared.go), so that attempts spread over N replicas meet the
// limits of one. Behind a reverse proxy the
// address is only right if the proxy is trusted (CITYOPS_TRUSTED_PROXIES); otherwise everyone
// shares the proxy's address and its 30 free failures.
type LoginThrottle struct {
	mu        sync.Mutex
	accounts  *simplelru.LRU[string, *loginFailures]
	addresses *simplelru.LRU[string, *loginFailures]
}

// loginLimit is one half of the policy in LoginThrottle's doc comment.
type loginLimit struct {
	free   int           // failures before delays start
	forget time.Duration // one failure is forgotten per forget
}

var (
	accountLimit = loginLimit{free: 5, forget: 15 * time.Minute}
	addressLimit = loginLimit{free: 30, forget: time.Minute}
)

const (
	loginDelayFirst = time.Second
	loginDelayMax   = 15 * time.Minute
	// maxThrottledKeys bounds each of the throttle's LRUs.
	maxThrottledKeys = 50_000
	// maxEmailKey cuts the key of an absurdly long email (no account has one longer than 254
	// bytes, see validEmail) so that one key costs little memory.
	maxEmailKey = 254
)

// delay is the wait after the n-th failure counted (n ≥ l.free).
func (l loginLimit) delay(n int) time.Duration {
	if k := n - l.free; k < 20 {
		return min(loginDelayFirst<<k, loginDelayMax)
	}
	return loginDelayMax
}

// loginFailures are the failures counted for one account or address.
type loginFailures struct {
	n        int       // failures not yet forgotten
	at       time.Time // when n was last reduced by forgetting (or started)
	until    time.Time // no attempt before this
	inflight int       // attempts being checked now
}

// forget drops the failures that l forgets by now.
func (f *loginFailures) forget(now time.Time, l loginLimit) {
	if f.n == 0 {
		f.at = now
		return
	}
	if k := int(now.Sub(f.at) / l.forget); k >= f.n {
		f.n, f.at = 0, now
	} else if k > 0 {
		f.n -= k
		f.at = f.at.Add(time.Duration(k) * l.forget)
	}
}

// wait is how long an attempt must wait at now; zero means it may go ahead. No failures (nil)
// need no wait.
func (f *loginFailures) wait(now time.Time, l loginLimit) time.Duration {
	if f == nil {
		return 0
	}
	f.forget(now, l)
	if d := f.until.Sub(now); d > 0 {
		return d
	}
	if f.inflight > 0 && f.n+f.inflight >= l.free {
		return l.delay(f.n + f.inflight)
	}
	return 0
}

func (f *loginFailures) fail(now time.Time, l loginLimit) {
	f.forget(now, l)
	f.n++
	if f.n >= l.free {
		f.until = later(f.until, now.Add(l.delay(f.n)))
	}
}

func (f *loginFailures) idle(now time.Time) bool {
	return f.n == 0 && f.inflight == 0 && !now.Before(f.until)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// NewLoginThrottle returns a throttle with the policy in LoginThrottle's doc comment.
func NewLoginThrottle() *LoginThrottle {
	return newLoginThrottle(maxThrottledKeys)
}

func newLoginThrottle(size int) *LoginThrottle {
	acc, err := simplelru.NewLRU[string, *loginFailures](size, nil)
	if err != nil {
		panic(err) // only for a size below one
	}
	addr, _ := simplelru.NewLRU[string, *loginFailures](size, nil)
	return &LoginThrottle{accounts: acc, addresses: addr}
}

// Begin starts a login attempt for email from addr at now. It returns a RateLimited error (with
// RetryAfter) while a delay is pending for either; the caller must then not check the password.
// Otherwise the caller ends the attempt with Fail or Succeed, and calls Release in any case
// (a deferred Release is enough: an attempt that neither failed nor succeeded, such as one that
// met a database error, counts for nothing).
func (t *LoginThrottle) Begin(email, addr string, now time.Time) (*LoginAttempt, error) {
	a := &LoginAttempt{t: t, account: accountKey(email), address: addressKey(addr)}
	t.mu.Lock()
	defer t.mu.Unlock()
	// A refused attempt adds no entry: otherwise refused attempts with ever new emails, which
	// cost nothing, could push other accounts' counts out of the LRU.
	acc, _ := t.accounts.Get(a.account)
	wait := acc.wait(now, accountLimit)
	var ad *loginFailures
	if a.address != "" {
		ad, _ = t.addresses.Get(a.address)
		wait = max(wait, ad.wait(now, addressLimit))
	}
	if wait > 0 {
		return nil, tooManyLogins(wait)
	}
	t.entry(t.accounts, a.account).inflight++
	if a.address != "" {
		t.entry(t.addresses, a.address).inflight++
	}
	return a, nil
}

// tooManyLogins says how long to wait, in whole seconds or minutes rounded up.
func tooManyLogins(wait time.Duration) *errs.Error {
	var e *errs.Error
	if wait < time.Minute {
		e = errs.E(errs.RateLimited, msgTooManyFailedLoginsTry, int((wait+time.Second-1)/time.Second))
	} else {
		e = errs.E(errs.RateLimited, msgTooManyFailedLoginsTry2, int((wait+time.Minute-1)/time.Minute))
	}
	e.RetryAfter = wait
	return e
}

// entry returns key's failures in l, adding empty ones. Called with t.mu held.
func (t *LoginThrottle) entry(l *simplelru.LRU[string, *loginFailures], key string) *loginFailures {
	if f, ok := l.Get(key); ok {
		return f
	}
	f := new(loginFailures)
	l.Add(key, f)
	return f
}

// dropIdle removes a's entries that hold nothing, so that logins that never fail leave no
// trace. Called with t.mu held.
func (t *LoginThrottle) dropIdle(a *LoginAttempt, now time.Time) {
	if f, ok := t.accounts.Peek(a.account); ok && f.idle(now) {
		t.accounts.Remove(a.account)
	}
	if a.address == "" {
		return
	}
	if f, ok := t.addresses.Peek(a.address); ok && f.idle(now) {
		t.addresses.Remove(a.address)
	}
}

// LoginAttempt is one login being checked (LoginThrottle.Begin).
type LoginAttempt struct {
	t                *LoginThrottle
	account, address string
	ended            bool
}

// end takes a out of flight once; it reports false if a had ended already. Called with t.mu held.
func (a *LoginAttempt) end() bool {
	if a.ended {
		return false
	}
	a.ended = true
	if f, ok := a.t.accounts.Peek(a.account); ok && f.inflight > 0 {
		f.inflight--
	}
	if a.address != "" {
		if f, ok := a.t.addresses.Peek(a.address); ok && f.inflight > 0 {
			f.inflight--
		}
	}
	return true
}

// Fail counts a wrong password (or an unknown email, or a disabled account) at now against the
// account and the address.
func (a *LoginAttempt) Fail(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if !a.end() {
		return
	}
	a.t.entry(a.t.accounts, a.account).fail(now, accountLimit)
	if a.address != "" {
		a.t.entry(a.t.addresses, a.address).fail(now, addressLimit)
	}
}

// Succeed clears the account's failures; the address's stay.
func (a *LoginAttempt) Succeed(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if !a.end() {
		return
	}
	if f, ok := a.t.accounts.Peek(a.account); ok {
		f.n, f.until = 0, time.Time{}
	}
	a.t.dropIdle(a, now)
}

// Release ends an attempt that neither failed nor succeeded; after Fail or Succeed it does
// nothing.
func (a *LoginAttempt) Release(now time.Time) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.end() {
		a.t.dropIdle(a, now)
	}
}

// accountKey is the throttle's key for email: lower-cased, trimmed, cut to maxEmailKey bytes,
// and copied, never aliasing a request's buffer.
func accountKey(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > maxEmailKey {
		email = email[:maxEmailKey]
	}
	return strings.Clone(email)
}

// addressKey is the throttle's key for a client address: the IPv4 address, or the /64 of an
// IPv6 address; "" (not counted) when there is no address; a copy in any case.
func addressKey(addr string) string {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		return ""
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		if len(addr) > 64 {
			addr = addr[:64]
		}
		return strings.Clone(addr)
	}
	ip = ip.Unmap()
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}
