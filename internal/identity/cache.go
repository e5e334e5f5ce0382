package identity

import (
	"sync"
	"sync/atomic"
	"time"
)

// The credential cache spares most authenticated requests their database
// round trip. It may hand out what the database said up to a TTL ago, so
// every change that could revoke or weaken a credential forgets the user's
// entries at once on this replica and through an event on the others
// (invalidate.go); the TTL bounds what a lost event can cost.

// DefaultCredentialCacheTTL is how long a looked-up credential is trusted
// without asking the database again.
const DefaultCredentialCacheTTL = time.Second

// maxCachedCredentials bounds the cache's memory whatever the traffic.
const maxCachedCredentials = 10_000

type credentialKind uint8

const (
	tokenCredential credentialKind = iota + 1
	sessionCredential
)

// cacheKey is a credential's SHA-256, never the secret itself.
type cacheKey struct {
	kind credentialKind
	hash [32]byte
}

func keyOf(kind credentialKind, hash []byte) cacheKey {
	k := cacheKey{kind: kind}
	copy(k.hash[:], hash)
	return k
}

// entry is a credential as the database last described it.
type entry struct {
	credential
	// stale is when the entry must be read from the database again.
	stale time.Time
	// used is the last use recorded in the database (Unix nanoseconds, 0
	// for never). It moves on when this process records a use, so the
	// once-a-minute write does not turn into a write per request while the
	// entry lives.
	used atomic.Int64
}

func newEntry(c credential, stale time.Time) *entry {
	e := &entry{credential: c, stale: stale}
	if c.lastUsed.Valid {
		e.used.Store(c.lastUsed.Time.UnixNano())
	}
	return e
}

// lastUse returns the last recorded use; ok is false when there is none.
func (e *entry) lastUse() (t time.Time, ok bool) {
	n := e.used.Load()
	return time.Unix(0, n), n != 0
}

// claimUse reports whether this use must be recorded: none was for longer
// than every. Of concurrent requests only one wins the claim, so one writes.
func (e *entry) claimUse(now time.Time, every time.Duration) bool {
	n := e.used.Load()
	if n != 0 && now.Sub(time.Unix(0, n)) <= every {
		return false
	}
	return e.used.CompareAndSwap(n, now.UnixNano())
}

// credentialCache maps credential hashes to entries. A nil cache caches
// nothing.
type credentialCache struct {
	mu sync.RWMutex
	m  map[cacheKey]*entry
	// gen counts invalidations. A lookup that read the database before one
	// must not store what it read afterwards: that could be the row the
	// invalidation was about.
	gen uint64
}

func newCredentialCache(ttl time.Duration) *credentialCache {
	if ttl <= 0 {
		return nil
	}
	return &credentialCache{m: make(map[cacheKey]*entry)}
}

// get returns the fresh entry for k, or nil.
func (c *credentialCache) get(k cacheKey, now time.Time) *entry {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil || !now.Before(e.stale) {
		return nil
	}
	return e
}

// generation is to be read before the database is, and handed to add.
func (c *credentialCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// add stores e unless an invalidation happened since gen was read. A full
// cache drops its stale entries, and caches nothing more while it stays full.
func (c *credentialCache) add(k cacheKey, e *entry, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= maxCachedCredentials {
		for k, e := range c.m {
			if !now.Before(e.stale) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCachedCredentials {
			return
		}
	}
	c.m[k] = e
}

// forget drops every entry of userID, or every entry when userID is 0.
func (c *credentialCache) forget(userID int) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if userID == 0 {
		clear(c.m)
		return
	}
	for k, e := range c.m {
		if e.userID == userID {
			delete(c.m, k)
		}
	}
}
