package tenants

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// PrincipalCacheTTL is how long a token's or session's principal is reused before it is read
// again from the control plane.
//
// Every authenticated request used to read the token (or session), the identity and its
// memberships: three queries before any work, and under load a tenth of the app's CPU. A
// principal is now kept for at most this long (and never past the token's or session's own
// expiry). What that costs: on the replica that made the change, logout, token revocation and
// role changes (SetMemberRoles, Grant) take effect at once (they drop the cached entries); on
// other replicas when their cache sync reads the change (SyncCaches, about half a second); for
// changes made straight in the database, within PrincipalCacheTTL. The session's idle timeout is
// checked with the same precision.
const PrincipalCacheTTL = 5 * time.Second

// maxCachedPrincipals bounds the cache; past it, the cache starts afresh.
const maxCachedPrincipals = 100_000

type principalCache struct {
	mu sync.Mutex
	m  map[string]cachedPrincipal // by "t:"/"s:" + token hash
}

type cachedPrincipal struct {
	p     *Principal
	until time.Time
}

// get returns a copy of the cached principal for key, if it is still fresh at now.
func (c *principalCache) get(key string, now time.Time) (*Principal, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	cp := *e.p // callers may not share one value; the memberships are read-only
	return &cp, true
}

// put keeps p for key until now+TTL or expires, whichever comes first.
func (c *principalCache) put(key string, p *Principal, now time.Time, expires *time.Time) {
	until := now.Add(PrincipalCacheTTL)
	if expires != nil && expires.Before(until) {
		until = *expires
	}
	cp := *p
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedPrincipals {
		c.m = map[string]cachedPrincipal{}
	}
	c.m[key] = cachedPrincipal{p: &cp, until: until}
}

// forget drops key.
func (c *principalCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// forgetToken drops the entries of API token id.
func (c *principalCache) forgetToken(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.TokenID != nil && *e.p.TokenID == id {
			delete(c.m, k)
		}
	}
}

// forgetIdentity drops every entry of identity (its roles changed).
func (c *principalCache) forgetIdentity(identity uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.Identity != nil && e.p.Identity.ID == identity {
			delete(c.m, k)
		}
	}
}
