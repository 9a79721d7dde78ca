package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/cityops/cityops/internal/errs"
	"github.com/cityops/cityops/internal/tasks"
	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
)

// authMethod logs in to Vault. login must not touch the shared client's token.
type authMethod interface {
	login(ctx context.Context, c *api.Client) (*api.Secret, error)
}

// tokenLogin "logs in" with a given token: it checks the token and learns its lifetime. With a
// file, the file is read at every login, so a token refreshed there (by Vault Agent) is used; a
// file not written yet, or holding a token that has run out, is waited for (the agent writes the
// next one), where a given token that has run out is refused for good.
type tokenLogin struct {
	token, file string
}

func (t *tokenLogin) login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	tok := t.token
	if t.file != "" {
		var err error
		if tok, err = readSecretFile(t.file); errors.Is(err, fs.ErrNotExist) || errors.Is(err, errEmptyFile) {
			return nil, &agentWait{fmt.Errorf("VAULT_TOKEN_FILE: %w (waiting for Vault Agent to write it)", err)}
		} else if err != nil {
			return nil, permanent(fmt.Errorf("VAULT_TOKEN_FILE: %w", err))
		}
	}
	lc, err := c.Clone()
	if err != nil {
		return nil, err
	}
	lc.SetToken(tok)
	self, err := lc.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		if isStatus(err, 403) && t.file != "" {
			return nil, &agentWait{errors.New("the token in VAULT_TOKEN_FILE has expired or was revoked (waiting for Vault Agent to write a new one)")}
		}
		if isStatus(err, 403) {
			return nil, permanent(errors.New("the Vault token has expired or was revoked"))
		}
		return nil, err
	}
	ttl, _ := self.TokenTTL()
	renewable, _ := self.TokenIsRenewable()
	auth := &api.SecretAuth{ClientToken: tok, Renewable: renewable, LeaseDuration: int(ttl.Seconds())}
	if renewable && ttl > 0 {
		if r, err := lc.Auth().Token().RenewSelfWithContext(ctx, 0); err == nil && r != nil && r.Auth != nil {
			auth = r.Auth
			auth.ClientToken = tok
		}
	}
	return &api.Secret{Auth: auth}, nil
}

// agentWait is a login that failed because the token file is not written yet or holds a token
// that has just run out: Vault Agent writes the next one within moments, so requests wait for
// it (up to loginWait) rather than fail.
type agentWait struct{ err error }

func (e *agentWait) Error() string { return e.err.Error() }
func (e *agentWait) Unwrap() error { return e.err }

// approleLogin logs in with AppRole. The secret id arrives response-wrapped; it is unwrapped at
// the first login that reaches Vault (checking that AppRole made the wrapping token) and kept for
// later logins, since a wrapping token can be used only once.
type approleLogin struct {
	roleID, mount string
	wrapped       string
	wrappedFile   string
	secretID      string
}

func (a *approleLogin) login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	lc, err := c.Clone() // no token: the login and unwrap paths must not carry a stale one
	if err != nil {
		return nil, err
	}
	lc.ClearToken()
	if a.secretID == "" {
		if err := a.unwrap(ctx, lc); err != nil {
			return nil, err
		}
	}
	m, err := approle.NewAppRoleAuth(a.roleID, &approle.SecretID{FromString: a.secretID}, approle.WithMountPath(a.mount))
	if err != nil {
		return nil, permanent(err)
	}
	s, err := m.Login(ctx, lc)
	if err != nil {
		if isStatus(err, 400) || isStatus(err, 403) {
			return nil, permanent(fmt.Errorf("AppRole login was refused (role id or secret id invalid or expired): %w", err))
		}
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New("AppRole login returned no token")
	}
	return s, nil
}

func (a *approleLogin) unwrap(ctx context.Context, lc *api.Client) error {
	wrapped := a.wrapped
	if a.wrappedFile != "" {
		var err error
		if wrapped, err = readSecretFile(a.wrappedFile); err != nil {
			return permanent(fmt.Errorf("CITYOPS_VAULT_WRAPPED_SECRET_ID_FILE: %w", err))
		}
	}
	info, err := lc.Logical().WriteWithContext(ctx, "sys/wrapping/lookup", map[string]any{"token": wrapped})
	if err != nil {
		if isStatus(err, 400) || isStatus(err, 403) {
			return permanent(errors.New("the wrapped secret id is invalid, expired or already used; give the app a fresh one (vault write -wrap-ttl=… -f auth/approle/role/<role>/secret-id)"))
		}
		return err
	}
	path, _ := info.Data["creation_path"].(string)
	want := regexp.MustCompile(`^auth/` + regexp.QuoteMeta(a.mount) + `/role/[^/]+/secret-id$`)
	if !want.MatchString(path) {
		return permanent(fmt.Errorf("the wrapped secret id was made by %q, not by AppRole's secret-id endpoint; refusing it", path))
	}
	s, err := lc.Logical().UnwrapWithContext(ctx, wrapped)
	if err != nil {
		if isStatus(err, 400) || isStatus(err, 403) {
			return permanent(errors.New("the wrapped secret id was already used; give the app a fresh one"))
		}
		return err
	}
	id, _ := s.Data["secret_id"].(string)
	if id == "" {
		return permanent(errors.New("the wrapping token held no secret id"))
	}
	a.secretID = id
	return nil
}

// permanentError marks a login failure that waiting will not cure: Vault answered and refused.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// keeper holds the shared client's token: it logs in, keeps the token alive with Vault's lifetime
// watcher, logs in again before the token's maximum TTL and whenever a request finds the token
// dead, and retries with backoff while Vault is unreachable.
type keeper struct {
	client *api.Client
	method authMethod
	log    *slog.Logger

	mu       sync.Mutex
	err      error     // why there is no usable token; nil when logged in
	attempts uint64    // login attempts finished
	lastTry  time.Time // when the last attempt finished
	changed  chan struct{}
	kick     chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

const (
	minLoginBackoff = 250 * time.Millisecond
	maxLoginBackoff = 30 * time.Second
	// loginWait bounds how long a request waits for a login it asked for.
	loginWait = 5 * time.Second
)

func newKeeper(c *api.Client, m authMethod, log *slog.Logger) *keeper {
	return &keeper{client: c, method: m, log: log, changed: make(chan struct{}), kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// start makes the first login attempt, then keeps the token in the background. It fails only
// when Vault refused the credentials; an unreachable Vault leaves the keeper retrying.
func (k *keeper) start(ctx context.Context) error {
	first, err := k.method.login(ctx, k.client)
	if err != nil && isPermanent(err) {
		return errs.Wrap(err, errs.Invalid, msgVaultRefusedAppCredentials, err)
	}
	if err != nil {
		k.log.Warn("vault is not reachable; starting without keys and retrying", "err", err)
	} else {
		k.client.SetToken(first.Auth.ClientToken)
	}
	k.record(err)
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	k.cancel = cancel
	go k.run(bg, first)
	return nil
}

func (k *keeper) stop() {
	if k.cancel != nil {
		k.cancel()
		<-k.done
	}
}

func (k *keeper) record(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if (err == nil) != (k.err == nil) {
		if err == nil {
			k.log.Info("logged in to vault")
		} else {
			k.log.Error("vault login failed; operations that need keys are unavailable", "err", err)
		}
	}
	k.err = err
	k.attempts++
	k.lastTry = time.Now()
	close(k.changed)
	k.changed = make(chan struct{})
}

func (k *keeper) run(ctx context.Context, secret *api.Secret) {
	defer close(k.done)
	backoff := minLoginBackoff
	prev, exhausted := "", false
	for ctx.Err() == nil {
		if secret == nil {
			s, err := k.method.login(ctx, k.client)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				k.client.SetToken(s.Auth.ClientToken) // before record: a waiting request uses it
			}
			k.record(err)
			var wait *agentWait
			if errors.As(err, &wait) {
				k.sleep(ctx, fileCheck) // the agent writes the next token within moments
				continue
			}
			if err != nil {
				k.sleep(ctx, backoff)
				backoff = min(2*backoff, maxLoginBackoff)
				continue
			}
			secret = s
		}
		backoff = minLoginBackoff
		if exhausted && secret.Auth.ClientToken == prev {
			// The same token again after its watcher ran to the end: it is at its maximum TTL.
			// Nothing more to renew; wait out its life (a token file may hold a new one by then).
			secret.Auth.Renewable = false
		}
		prev = secret.Auth.ClientToken
		exhausted = k.watch(ctx, secret)
		secret = nil
	}
}

// sleep waits d, or less if a request asks for a login.
func (k *keeper) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-k.kick:
	}
}

// watch returns when the token needs replacing: its lifetime is ending, or a request found it
// dead. It reports whether the token ran to the end of its renewable life.
func (k *keeper) watch(ctx context.Context, s *api.Secret) (exhausted bool) {
	if s.Auth.LeaseDuration <= 0 { // a token that never expires (a root token in development)
		select {
		case <-ctx.Done():
		case <-k.kick:
		}
		return false
	}
	if !s.Auth.Renewable {
		k.waitOut(ctx, s)
		return false
	}
	w, err := k.client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: s})
	if err != nil {
		k.log.Error("vault lifetime watcher", "err", err)
		k.sleep(ctx, time.Duration(s.Auth.LeaseDuration)*time.Second)
		return false
	}
	go w.Start()
	defer w.Stop()
	for {
		select {
		case err := <-w.DoneCh():
			if err != nil {
				k.log.Warn("vault token renewal failed; logging in again", "err", err)
				return false
			}
			k.log.Info("vault token is near its maximum TTL; logging in again")
			return true
		case r := <-w.RenewCh():
			if r.Secret != nil && r.Secret.Auth != nil {
				k.log.Debug("vault token renewed", "ttl", r.Secret.Auth.LeaseDuration)
			}
		case <-k.kick:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// waitOut waits until a token that cannot be renewed ends, a request asks for a login, or —
// for a token read from a file — the file holds another token (Vault Agent wrote the next one,
// which it does shortly before the old one ends), whichever comes first.
func (k *keeper) waitOut(ctx context.Context, s *api.Secret) {
	end := time.Now().Add(time.Duration(s.Auth.LeaseDuration) * time.Second)
	f, ok := k.method.(*tokenLogin)
	if !ok || f.file == "" {
		k.sleep(ctx, time.Until(end))
		return
	}
	for time.Now().Before(end) {
		t := time.NewTimer(min(fileCheck, time.Until(end)))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-k.kick:
			t.Stop()
			return
		case <-t.C:
		}
		if tok, err := readSecretFile(f.file); err == nil && tok != s.Auth.ClientToken {
			return
		}
	}
}

// fileCheck is how often a token file is read while its token is at its end.
const fileCheck = 100 * time.Millisecond

// ready returns nil when there is a token to use. Without one it asks for a login, at most
// once a second, and waits a little for it.
func (k *keeper) ready(ctx context.Context) error {
	k.mu.Lock()
	err, recent := k.err, time.Since(k.lastTry) < time.Second
	k.mu.Unlock()
	if err == nil {
		return nil
	}
	var wait *agentWait
	if recent && !errors.As(err, &wait) {
		return loginUnavailable(err)
	}
	return k.relogin(ctx)
}

// relogin asks the keeper to log in again and waits for the attempt. While the token file is
// waited for (agentWait), it asks again until a login succeeds or loginWait has passed.
func (k *keeper) relogin(ctx context.Context) error {
	deadline := time.Now().Add(loginWait)
	for {
		err := k.loginOnce(ctx)
		var wait *agentWait
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) || !errors.As(err, &wait) {
			return err
		}
		if !tasks.Sleep(ctx, fileCheck) {
			return ctx.Err()
		}
	}
}

// loginOnce asks the keeper to log in again and waits for the attempt.
func (k *keeper) loginOnce(ctx context.Context) error {
	k.mu.Lock()
	start, ch := k.attempts, k.changed
	k.mu.Unlock()
	select {
	case k.kick <- struct{}{}:
	default:
	}
	t := time.NewTimer(loginWait)
	defer t.Stop()
	for {
		select {
		case <-ch:
			k.mu.Lock()
			n, err := k.attempts, k.err
			ch = k.changed
			k.mu.Unlock()
			if n > start {
				if err != nil {
					return loginUnavailable(err)
				}
				return nil
			}
		case <-t.C:
			return errs.E(errs.Unavailable, msgKeyServiceVaultDidNot)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// state returns why there is no usable token, or nil.
func (k *keeper) state() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

func loginUnavailable(err error) error {
	if isPermanent(err) {
		return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultRefusedApp, err)
	}
	return errs.Wrap(err, errs.Unavailable, msgKeyServiceVaultCannotReached)
}
